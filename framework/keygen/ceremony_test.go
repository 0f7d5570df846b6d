package keygen_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	mrand "math/rand/v2"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/framework/keygen"
	"github.com/constellation-chain/constellation/interfaces"
)

// ceremony plays a genesis ceremony among ms: the dealers in deal publish
// their dealings, then the members in answer, having folded the dealings
// published, their answers. It returns every transaction published.
func ceremony(t *testing.T, s keygen.Session, ms []member, deal, answer map[int]bool) []*interfaces.Transaction {
	t.Helper()
	gen := honeybadger.Factory{}
	var deals []*interfaces.Transaction
	for i := range ms {
		if !deal[i] {
			continue
		}
		st, err := keygen.New(s, gen, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, err := st.DealMessage(i, ms[i].key, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := keygen.Tx(ms[i].key, 1, interfaces.ZeroHash, m)
		if err != nil {
			t.Fatal(err)
		}
		deals = append(deals, tx)
	}
	all := append([]*interfaces.Transaction(nil), deals...)
	for i := range ms {
		if !answer[i] {
			continue
		}
		// A member answers from the dealings alone.
		st, err := keygen.New(s, gen, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, tx := range deals {
			m, err := st.Admit(tx.Sender, tx.Payload)
			if err != nil {
				t.Fatal(err)
			}
			st.Apply(tx.Sender, m, 0)
		}
		seq, prev := uint64(1), interfaces.ZeroHash
		for d := range ms {
			if _, _, ok := st.Dealing(d); !ok {
				continue
			}
			m, err := st.AnswerMessage(i, d, ms[i].key)
			if err != nil {
				t.Fatal(err)
			}
			seq++
			tx, err := keygen.Tx(ms[i].key, seq, prev, m)
			if err != nil {
				t.Fatal(err)
			}
			prev = tx.ID()
			all = append(all, tx)
		}
	}
	return all
}

func allOf(n int) map[int]bool {
	m := map[int]bool{}
	for i := range n {
		m[i] = true
	}
	return m
}

// Every member folds the ceremony's transactions, whatever order and
// copies it got them in, into the same key and transcript, and the
// members' assembled keys sign together under it.
func TestACeremonyMakesOneKeyWithoutADealer(t *testing.T) {
	ms, ids := members(t, 4, 7)
	s := keygen.Session{Network: "devnet", Group: "cluster/0", Round: keygen.CeremonyRound, Members: ids}
	txs := ceremony(t, s, ms, allOf(4), allOf(4))
	st, digest, err := keygen.FoldCeremony(s, honeybadger.Factory{}, txs)
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, st, ms, map[int]behaviour{})
	r := mrand.New(mrand.NewPCG(1, 2))
	for range 5 {
		shuffled := append([]*interfaces.Transaction(nil), txs...)
		shuffled = append(shuffled, txs[r.IntN(len(txs))]) // a copy
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, d2, err := keygen.FoldCeremony(s, honeybadger.Factory{}, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if d2 != digest || !bytes.Equal(again.GroupKey(), st.GroupKey()) {
			t.Fatal("the same transactions in another order fold into another transcript or key")
		}
	}
}

// A member that never answers leaves N−f acknowledgements, enough; one
// dealer alone (fewer than f+1 = 2 dealings) never makes a key.
func TestACeremonyToleratesASilentMemberAndNeedsFPlusOneDealings(t *testing.T) {
	ms, ids := members(t, 4, 8)
	s := keygen.Session{Network: "devnet", Group: "galaxy", Round: keygen.CeremonyRound, Members: ids}
	talk := allOf(4)
	delete(talk, 3)
	st, _, err := keygen.FoldCeremony(s, honeybadger.Factory{}, ceremony(t, s, ms, talk, talk))
	if err != nil {
		t.Fatal(err)
	}
	checkKeys(t, st, ms, map[int]behaviour{3: silent})
	st, _, err = keygen.FoldCeremony(s, honeybadger.Factory{}, ceremony(t, s, ms, map[int]bool{0: true}, allOf(4)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Done() || !st.Failed() {
		t.Fatalf("one dealing of four members made a key (done %v, failed %v)", st.Done(), st.Failed())
	}
}

// A transaction with a broken signature, from a non-member, or of another
// session is refused with an error, not folded.
func TestACeremonyRefusesForeignTransactions(t *testing.T) {
	ms, ids := members(t, 4, 9)
	s := keygen.Session{Network: "devnet", Group: "cluster/0", Round: keygen.CeremonyRound, Members: ids}
	txs := ceremony(t, s, ms, allOf(4), allOf(4))
	bad := *txs[0]
	bad.Payload = append([]byte(nil), bad.Payload...)
	bad.Payload[len(bad.Payload)-1] ^= 1
	if _, _, err := keygen.FoldCeremony(s, honeybadger.Factory{}, append(txs[1:], &bad)); err == nil {
		t.Fatal("a transaction whose payload changed after signing was folded")
	}
	other := s
	other.Group = "cluster/1"
	foreign := ceremony(t, other, ms, map[int]bool{0: true}, nil)
	if _, _, err := keygen.FoldCeremony(s, honeybadger.Factory{}, append(txs, foreign...)); err == nil {
		t.Fatal("a dealing of another session was folded")
	}
	outsiders, _ := members(t, 1, 10)
	m, err := keygen.Decode(txs[0].Payload)
	if err != nil {
		t.Fatal(err)
	}
	stolen, err := keygen.Tx(outsiders[0].key, 1, interfaces.ZeroHash, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := keygen.FoldCeremony(s, honeybadger.Factory{}, append(txs, stolen)); !errors.Is(err, keygen.ErrNotMember) {
		t.Fatalf("a dealing signed by a non-member: %v", err)
	}
	if _, _, err := keygen.FoldCeremony(s, honeybadger.Factory{}, []*interfaces.Transaction{{Kind: interfaces.TxTransfer}}); err == nil || errors.Is(err, keygen.ErrCeremonyFailed) {
		t.Fatalf("a transfer in a ceremony: %v", err)
	}
}
