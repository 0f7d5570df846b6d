package keygen

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
)

// A genesis ceremony: the same key generation without a chain to order it,
// so that a network can start with no trusted dealer. Its session is round
// 0 of the group (a chain's own rotations count from 1). Each member
// publishes its dealing as a signed TxKeyGen transaction, then, having read
// every dealing, its answers; any channel that carries the files to every
// member will do (a shared directory, mail), because the transactions are
// signed and the fold below orders them canonically: dealings by dealer,
// then answers by author and dealer, copies of one transaction once. So
// every member that folds the same set of transactions holds the same
// State, and after the fold the session ends as at a chain's deadline:
// complete from the dealings that are not disqualified and that at least
// N−f members acknowledged, if there are t of them, else failed. Members
// compare the transcript digest (and so the group key) out of band: one
// that was shown a different set of files gets a different key, and its
// node then refuses the genesis file that names the others'.
//
// A dealer that sends two different dealings is disqualified whatever the
// order, as in a chain; so is one whose dealing fails the public checks,
// or one a member's complaint shows cheated it.

// CeremonyRound is the round of a genesis ceremony's session.
const CeremonyRound = 0

// ErrCeremonyFailed means a ceremony's transactions qualify fewer than t
// dealings: nobody holds a key, and the members must deal again.
var ErrCeremonyFailed = errors.New("key generation failed: fewer than f+1 dealings qualified")

// FoldCeremony folds a ceremony's transactions in canonical order into a
// State of session s and ends the session. Transactions that are not
// well-formed key-generation messages of s, signed by a member, are
// refused with an error naming them (a member should not sign anything
// else into a ceremony, and a file that is not one is a mistake to fix,
// not to skip). It returns the state (Done or Failed) and the transcript
// digest: the hash of the folded transactions' ids in their order.
func FoldCeremony(s Session, gen interfaces.KeyGenerator, txs []*interfaces.Transaction) (*State, interfaces.Hash, error) {
	st, digest, err := FoldOpen(s, gen, txs)
	if err != nil {
		return nil, interfaces.Hash{}, err
	}
	st.EndBlock(st.Deadline())
	return st, digest, nil
}

// FoldOpen is FoldCeremony without the end: the state a member answers
// the dealings from (AnswerMessage), the session still open.
func FoldOpen(s Session, gen interfaces.KeyGenerator, txs []*interfaces.Transaction) (*State, interfaces.Hash, error) {
	st, err := New(s, gen, 0, 1)
	if err != nil {
		return nil, interfaces.Hash{}, err
	}
	type item struct {
		tx     *interfaces.Transaction
		m      Message
		author int
	}
	var items []item
	seen := map[interfaces.Hash]bool{}
	for i, tx := range txs {
		if tx == nil || tx.Kind != interfaces.TxKeyGen {
			return nil, interfaces.Hash{}, fmt.Errorf("transaction %d is not a key-generation message", i)
		}
		if err := tx.VerifySignatures(); err != nil {
			return nil, interfaces.Hash{}, fmt.Errorf("transaction %d (%s, from %s): %w", i, tx.ID().Short(), tx.Sender.Short(), err)
		}
		m, err := st.Admit(tx.Sender, tx.Payload)
		if err != nil {
			return nil, interfaces.Hash{}, fmt.Errorf("transaction %d (%s, from %s): %w", i, tx.ID().Short(), tx.Sender.Short(), err)
		}
		if id := tx.ID(); !seen[id] {
			seen[id] = true
			items = append(items, item{tx: tx, m: m, author: s.Index(tx.Sender)})
		}
	}
	rank := func(k Kind) int {
		if k == Deal {
			return 0
		}
		return 1
	}
	slices.SortFunc(items, func(a, b item) int {
		if c := cmp.Compare(rank(a.m.Kind), rank(b.m.Kind)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.author, b.author); c != 0 {
			return c
		}
		if c := cmp.Compare(a.m.Dealer, b.m.Dealer); c != 0 {
			return c
		}
		ia, ib := a.tx.ID(), b.tx.ID()
		return bytes.Compare(ia[:], ib[:])
	})
	e := interfaces.NewEncoder(32 * (len(items) + 1))
	sid := s.ID()
	e.Fixed(sid[:])
	for _, it := range items {
		id := it.tx.ID()
		e.Fixed(id[:])
		st.Apply(it.tx.Sender, it.m, 0)
	}
	return st, interfaces.DomainSum("constellation/keygen-ceremony/v1", e.Bytes()), nil
}
