package keygen_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/constellation-chain/constellation/builtin/honeybadger"
	"github.com/constellation-chain/constellation/framework/keygen"
	"github.com/constellation-chain/constellation/interfaces"
)

// member is one star of a test session.
type member struct {
	key ed25519.PrivateKey
	id  interfaces.StarID
}

func members(t *testing.T, n int, seed uint64) ([]member, []interfaces.StarID) {
	t.Helper()
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed)}))
	ms := make([]member, n)
	for i := range ms {
		s := make([]byte, ed25519.SeedSize)
		for j := range s {
			s[j] = byte(r.Uint32())
		}
		k := ed25519.NewKeyFromSeed(s)
		id, err := interfaces.StarIDFromPublicKey(k.Public().(ed25519.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = member{key: k, id: id}
	}
	slices.SortFunc(ms, func(a, b member) int { return interfaces.CompareStars(a.id, b.id) })
	ids := make([]interfaces.StarID, n)
	for i := range ms {
		ids[i] = ms[i].id
	}
	return ms, ids
}

// behaviour says how a faulty member departs from the protocol.
type behaviour int

const (
	honest     behaviour = iota
	silent               // never deals, never answers
	badShare             // deals a dealing whose share for the last honest member does not decrypt
	equivocate           // deals two different dealings
	liar                 // deals well, but complains about every other dealing
	invalid              // deals bytes that fail the public checks
)

// run plays a session: every member deals as its behaviour says, each
// message is committed in a block of its own in the order sent, and every
// member answers each dealing delivered as its behaviour says. It returns
// the state after the deadline (or once nothing is left to deliver).
func run(t *testing.T, ms []member, ids []interfaces.StarID, how map[int]behaviour, window uint64) *keygen.State {
	t.Helper()
	gen := honeybadger.Factory{}
	s := keygen.Session{Network: "test", Group: "cluster/0", Round: 1, Members: ids}
	if window == 0 {
		window = 1000 // one message per block here; a real block carries many
	}
	st, err := keygen.New(s, gen, 0, window)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.NewChaCha8([32]byte{7})
	type sent struct {
		from int
		m    keygen.Message
	}
	var queue []sent
	victim := -1
	for i := range ms {
		if how[i] == honest {
			victim = i
		}
	}
	push := func(from int, m keygen.Message) {
		// Through the encoding, as the chain carries it.
		got, err := st.Admit(ms[from].id, m.Encode())
		if err != nil {
			t.Fatalf("member %d's %s refused: %v", from, m.Kind, err)
		}
		queue = append(queue, sent{from, got})
	}
	for i := range ms {
		switch how[i] {
		case silent:
			continue
		case invalid:
			push(i, keygen.Message{Session: s.ID(), Kind: keygen.Deal, Dealer: i, Body: []byte("not a dealing")})
			continue
		}
		m, err := st.DealMessage(i, ms[i].key, rnd)
		if err != nil {
			t.Fatal(err)
		}
		switch how[i] {
		case badShare:
			m.Body = slices.Clone(m.Body)
			m.Body[len(m.Body)-48*(len(ms)-victim)] ^= 1 // the victim's sealed share
		case equivocate:
			push(i, m)
			m, err = st.DealMessage(i, ms[i].key, rnd)
			if err != nil {
				t.Fatal(err)
			}
		}
		push(i, m)
	}
	height := uint64(0)
	for len(queue) > 0 && !st.Done() && !st.Failed() {
		next := queue[0]
		queue = queue[1:]
		height++
		st.Apply(ms[next.from].id, next.m, height)
		if next.m.Kind == keygen.Deal {
			for i := range ms {
				if _, _, ok := st.Dealing(next.m.Dealer); !ok || st.Answered(i, next.m.Dealer) {
					break
				}
				switch how[i] {
				case silent, invalid:
					continue
				case liar:
					if next.m.Dealer != i {
						push(i, liarComplaint(t, st, ms, i, next.m.Dealer))
						continue
					}
				}
				a, err := st.AnswerMessage(i, next.m.Dealer, ms[i].key)
				if err != nil {
					t.Fatal(err)
				}
				push(i, a)
			}
		}
		st.EndBlock(height)
	}
	for !st.Done() && !st.Failed() {
		height++
		st.EndBlock(height)
		if height > st.Deadline()+1 {
			t.Fatal("session neither completed nor failed after its deadline")
		}
	}
	return st
}

// liarComplaint is a complaint from member i that dealer's dealing cheated
// it, made by asking the engine to complain about a share it corrupted
// first: the proof holds, the share does not.
func liarComplaint(t *testing.T, st *keygen.State, ms []member, i, dealer int) keygen.Message {
	t.Helper()
	body, digest, _ := st.Dealing(dealer)
	bad := slices.Clone(body)
	// Corrupt member i's own sealed share (shares are sealed in member
	// order at the end of the encoding, 48 bytes each).
	n := len(ms)
	bad[len(bad)-48*(n-i)] ^= 1
	c, err := honeybadger.Factory{}.Respond(st.Session().Members, 0, dealer, bad, i, ms[i].key)
	if err != nil || c == nil {
		t.Fatalf("could not make a lying complaint: %v", err)
	}
	return keygen.Message{Session: st.Session().ID(), Kind: keygen.Complain, Dealer: dealer, Digest: digest, Body: c}
}

// checkKeys assembles every honest member's keys and checks they share the
// state's group key and sign together.
func checkKeys(t *testing.T, st *keygen.State, ms []member, how map[int]behaviour) {
	t.Helper()
	if !st.Done() {
		t.Fatalf("key did not complete (failed=%v)", st.Failed())
	}
	f := honeybadger.Factory{}
	msg := []byte("certify this")
	var shares []interfaces.SignatureShare
	var signer interfaces.ThresholdSigner
	for i := range ms {
		if how[i] != honest {
			continue
		}
		k, err := st.Keys(i, ms[i].key)
		if err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
		gk, err := f.GroupKey(k)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gk, st.GroupKey()) {
			t.Fatalf("member %d's keys are under another group key than the state's", i)
		}
		c, err := f.NewConsensus(interfaces.ConsensusConfig{Self: ms[i].id, Members: st.Session().Members, Keys: k, BatchSize: 1})
		if err != nil {
			t.Fatalf("member %d: engine refuses its assembled keys: %v", i, err)
		}
		ts := c.(interfaces.ThresholdSigner)
		sh, err := ts.SignShare(msg)
		if err != nil {
			t.Fatal(err)
		}
		shares = append(shares, interfaces.SignatureShare{Member: ms[i].id, Share: sh})
		signer = ts
	}
	sig, err := signer.CombineShares(msg, shares)
	if err != nil {
		t.Fatalf("honest members cannot sign together: %v", err)
	}
	if err := f.VerifyGroupKey(st.GroupKey(), msg, sig); err != nil {
		t.Fatalf("the honest members' signature does not verify under the group key: %v", err)
	}
}

func dealersOf(st *keygen.State) []int {
	var out []int
	for _, q := range st.Qualified() {
		out = append(out, q.Dealer)
	}
	return out
}

func TestKeyCompletesWhenAllAreHonest(t *testing.T) {
	ms, ids := members(t, 4, 1)
	st := run(t, ms, ids, nil, 0)
	checkKeys(t, st, ms, nil)
	// The fast path: the first t = 2 fully acknowledged dealings.
	if got := dealersOf(st); !slices.Equal(got, []int{0, 1}) {
		t.Fatalf("qualified dealers %v, want [0 1]", got)
	}
}

// Up to f faulty members, each way a member can be faulty: the key still
// completes, from honest dealings only where the faulty one cheated, and
// every honest member's keys are under the same group key.
func TestKeyCompletesWithFaultyMembers(t *testing.T) {
	for _, n := range []int{4, 7} {
		f := (n - 1) / 3
		for _, b := range []struct {
			name string
			how  behaviour
			// counts says whether the faulty dealers' dealings may qualify
			counts bool
		}{
			{"silent", silent, false},
			{"bad-share", badShare, false},
			{"equivocating", equivocate, false},
			{"invalid-dealing", invalid, false},
			{"lying-complainer", liar, true},
		} {
			t.Run(fmt.Sprintf("N=%d/%s", n, b.name), func(t *testing.T) {
				ms, ids := members(t, n, uint64(n))
				how := map[int]behaviour{}
				for i := range f {
					how[i] = b.how // the lowest indices, so their dealings come first
				}
				st := run(t, ms, ids, how, 0)
				checkKeys(t, st, ms, how)
				for _, d := range dealersOf(st) {
					if how[d] != honest && !b.counts {
						t.Fatalf("faulty dealer %d qualified: %v", d, dealersOf(st))
					}
				}
				if b.how == liar {
					if got := st.Liars(); len(got) != f {
						t.Fatalf("%d liars found, want %d", len(got), f)
					}
				}
			})
		}
	}
}

// Fewer than t dealings that qualify never complete a key: with only f
// dealers (the rest silent), or with f honest dealers and the others
// cheating.
func TestFewerThanThresholdDealingsNeverComplete(t *testing.T) {
	for _, n := range []int{4, 7} {
		f := (n - 1) / 3
		t.Run(fmt.Sprintf("N=%d/only-f-deal", n), func(t *testing.T) {
			ms, ids := members(t, n, uint64(n))
			how := map[int]behaviour{}
			for i := f; i < n; i++ {
				how[i] = silent
			}
			// The silent members still answer nothing; the f dealers are
			// fully acknowledged by themselves only.
			st := run(t, ms, ids, how, 4)
			if st.Done() || !st.Failed() {
				t.Fatalf("%d dealings completed a key of threshold %d", f, f+1)
			}
		})
		t.Run(fmt.Sprintf("N=%d/f-honest-rest-cheat", n), func(t *testing.T) {
			ms, ids := members(t, n, uint64(n)+100)
			how := map[int]behaviour{}
			for i := f; i < n; i++ {
				how[i] = badShare // member 0 is honest and complains
			}
			st := run(t, ms, ids, how, 64)
			if st.Done() {
				t.Fatalf("key completed from dealers %v, of which only %d honest", dealersOf(st), f)
			}
		})
	}
}

// The slow path completes only at the deadline, from dealings with N−f
// acknowledgements.
func TestSlowPathWaitsForTheDeadline(t *testing.T) {
	ms, ids := members(t, 4, 9)
	how := map[int]behaviour{3: silent}
	st := run(t, ms, ids, how, 40)
	checkKeys(t, st, ms, how)
	if got := dealersOf(st); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("qualified %v, want the three dealers with N−f acknowledgements", got)
	}
}

func TestAdmitRefuses(t *testing.T) {
	ms, ids := members(t, 4, 3)
	st, err := keygen.New(keygen.Session{Network: "test", Group: "g", Round: 1, Members: ids}, honeybadger.Factory{}, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	other := keygen.Session{Network: "test", Group: "g", Round: 2, Members: ids}
	m := keygen.Message{Session: other.ID(), Kind: keygen.Ack}
	if _, err := st.Admit(ms[0].id, m.Encode()); err == nil {
		t.Fatal("a message for another session was admitted")
	}
	m.Session = st.Session().ID()
	outsider, _ := members(t, 1, 99)
	if _, err := st.Admit(outsider[0].id, m.Encode()); !errors.Is(err, keygen.ErrNotMember) {
		t.Fatalf("an outsider's message: %v, want ErrNotMember", err)
	}
	m.Dealer = 4
	if _, err := st.Admit(ms[0].id, m.Encode()); err == nil {
		t.Fatal("a message naming dealer 4 of 4 was admitted")
	}
	if _, err := keygen.New(keygen.Session{Members: ids[:3]}, honeybadger.Factory{}, 0, 0); err != nil {
		t.Fatal(err) // 3 members, f = 0: allowed
	}
	if _, err := keygen.New(keygen.Session{Members: ids, Faulty: 2}, honeybadger.Factory{}, 0, 0); err == nil {
		t.Fatal("f=2 with 4 members was accepted")
	}
	if _, err := keygen.New(keygen.Session{Members: []interfaces.StarID{ids[1], ids[0]}}, honeybadger.Factory{}, 0, 0); err == nil {
		t.Fatal("unsorted members were accepted")
	}
}

func TestMessageRoundTrip(t *testing.T) {
	for _, m := range []keygen.Message{
		{Kind: keygen.Deal, Dealer: 3, Body: []byte{1, 2, 3}},
		{Kind: keygen.Ack, Dealer: 1, Digest: interfaces.Hash{9}},
		{Kind: keygen.Complain, Dealer: 0, Digest: interfaces.Hash{8}, Body: []byte{4}},
	} {
		m.Session = interfaces.Hash{1}
		got, err := keygen.Decode(m.Encode())
		if err != nil {
			t.Fatal(err)
		}
		if got.Kind != m.Kind || got.Dealer != m.Dealer || got.Digest != m.Digest || !bytes.Equal(got.Body, m.Body) || got.Session != m.Session {
			t.Fatalf("round trip of %v gave %v", m, got)
		}
	}
	if _, err := keygen.Decode((&keygen.Message{Kind: keygen.Deal}).Encode()); err == nil {
		t.Fatal("a dealing with no body decoded")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add((&keygen.Message{Kind: keygen.Deal, Body: []byte{1}}).Encode())
	f.Add((&keygen.Message{Kind: keygen.Ack, Dealer: 2}).Encode())
	f.Add((&keygen.Message{Kind: keygen.Complain, Body: []byte{1, 2}}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := keygen.Decode(b)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Encode(), b) {
			t.Fatalf("decoded %x re-encodes as %x", b, m.Encode())
		}
	})
}
