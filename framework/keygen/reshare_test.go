package keygen_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/framework/keygen"
	"github.com/constellation-chain/constellation/interfaces"
)

// reshare plays a reshare session of the dealt key of old (4 members, f=1,
// so 2 dealings complete it) to the members ms: each old dealer not in
// quiet deals its share, each dealing in its own block, and every new
// member answers each dealing delivered. It returns the state after the
// deadline and the old group key.
func reshare(t *testing.T, old []member, oldIDs []interfaces.StarID, ms []member, ids []interfaces.StarID, quiet map[int]bool, bad map[int]bool) (*keygen.State, []byte) {
	t.Helper()
	gen := honeybadger.Factory{}
	oldKeys, err := gen.DealKeys(oldIDs, 0, rand.NewChaCha8([32]byte{3}))
	if err != nil {
		t.Fatal(err)
	}
	prev, err := gen.GroupKey(oldKeys[0])
	if err != nil {
		t.Fatal(err)
	}
	s := keygen.Session{Network: "test", Group: "galaxy", Round: 1, Members: ids, Dealers: oldIDs, Previous: prev}
	st, err := keygen.New(s, gen, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if st.Needed() != 2 {
		t.Fatalf("a reshare of a key of threshold 2 needs %d dealings", st.Needed())
	}
	rnd := rand.NewChaCha8([32]byte{8})
	height := uint64(0)
	commit := func(from interfaces.StarID, m keygen.Message) {
		got, err := st.Admit(from, m.Encode())
		if err != nil {
			t.Fatalf("%s's %s refused: %v", from.Short(), m.Kind, err)
		}
		height++
		st.Apply(from, got, height)
		st.EndBlock(height)
	}
	for i := range old {
		if quiet[i] {
			continue
		}
		if _, err := st.DealMessage(i, old[i].key, rnd); err == nil {
			t.Fatal("a reshare dealer dealt a fresh dealing")
		}
		m, err := st.DealReshareMessage(i, oldKeys[i], rnd)
		if err != nil {
			t.Fatal(err)
		}
		if bad[i] {
			m.Body[len(m.Body)-48*len(ms)] ^= 1 // new member 0's sealed share
		}
		commit(old[i].id, m)
		for j := range ms {
			if st.Done() || st.Failed() {
				break
			}
			if _, _, ok := st.Dealing(i); !ok {
				break
			}
			a, err := st.AnswerMessage(j, i, ms[j].key)
			if err != nil {
				t.Fatal(err)
			}
			commit(ms[j].id, a)
		}
	}
	for !st.Done() && !st.Failed() {
		height++
		st.EndBlock(height)
	}
	return st, prev
}

// TestAReshareHandsTheSameKeyToNewMembers: four old members reshare their
// key to five new ones, one old dealer silent and one giving a new member
// a bad share (that member's complaint disqualifies it). The key completes
// from the two honest old dealings, and the new members' signature
// verifies under the old group key. An old member that is not a new one
// may only deal: its answer is refused, as is a dealing by a new member
// that was not an old one.
func TestAReshareHandsTheSameKeyToNewMembers(t *testing.T) {
	old, oldIDs := members(t, 4, 41)
	ms, ids := members(t, 5, 42)
	st, prev := reshare(t, old, oldIDs, ms, ids, map[int]bool{0: true}, map[int]bool{1: true})
	if !st.Done() {
		t.Fatalf("the reshare did not complete (failed=%v)", st.Failed())
	}
	if got := dealersOf(st); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("qualified old dealers %v, want the honest [2 3]", got)
	}
	checkKeys(t, st, ms, nil)
	// checkKeys verified a signature under the new key set; it verifies
	// under the old group key too.
	f := honeybadger.Factory{}
	msg := []byte("black hole 40")
	var shares []interfaces.SignatureShare
	var signer interfaces.ThresholdSigner
	for j := range ms {
		k, err := st.Keys(j, ms[j].key)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.NewConsensus(interfaces.ConsensusConfig{Self: ms[j].id, Members: ids, Keys: k, BatchSize: 1})
		if err != nil {
			t.Fatal(err)
		}
		signer = c.(interfaces.ThresholdSigner)
		sh, err := signer.SignShare(msg)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, interfaces.SignatureShare{Member: ms[j].id, Share: sh})
	}
	sig, err := signer.CombineShares(msg, shares)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.VerifyGroupKey(prev, msg, sig); err != nil {
		t.Fatalf("the new members' signature does not verify under the old group key: %v", err)
	}
	ack := keygen.Message{Session: st.Session().ID(), Kind: keygen.Ack, Dealer: 1}
	if _, err := st.Admit(old[1].id, ack.Encode()); err == nil {
		t.Fatal("an old member that is not a new one answered")
	}
	deal := keygen.Message{Session: st.Session().ID(), Kind: keygen.Deal, Dealer: 0, Body: []byte{1}}
	if _, err := st.Admit(ms[0].id, deal.Encode()); err == nil {
		t.Fatal("a new member that was not an old one dealt")
	}
}

// TestAReshareWithTooFewOldDealersFails: three of the four old members are
// silent, so one dealing qualifies of the two the old key's threshold
// needs; the session fails at its deadline rather than hand over a key
// the old members did not hold.
func TestAReshareWithTooFewOldDealersFails(t *testing.T) {
	old, oldIDs := members(t, 4, 43)
	ms, ids := members(t, 4, 44)
	st, _ := reshare(t, old, oldIDs, ms, ids, map[int]bool{0: true, 1: true, 2: true}, nil)
	if st.Done() || !st.Failed() {
		t.Fatalf("a reshare with one old dealing: done=%v failed=%v", st.Done(), st.Failed())
	}
}
