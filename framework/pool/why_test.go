package pool

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestADroppedTransactionSaysWhy: every transaction the pool drops without
// its being committed leaves a reason Status answers with (the API's
// GET /v1/txs/{id}/status): another transaction took its sequence, it no
// longer chains from the committed head, it waited behind a gap, or the
// ledger refused it. A pending one is pending; a committed one and one
// never seen have no reason.
func TestADroppedTransactionSaysWhy(t *testing.T) {
	k := interfaces.DevKey("alice")
	alice := interfaces.DevStar("alice")
	h := heads{}
	kinds := map[string]int{}
	p := New(Options{Head: h.head, GapBlocks: 16, Forgot: func(k string) { kinds[k]++ }})
	mine := chained(t, k, 1, interfaces.Hash{}, 3)
	for _, tx := range mine {
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	if pending, why := p.Status(mine[0].ID()); !pending || why != "" {
		t.Fatalf("a waiting transaction: pending %v, reason %q", pending, why)
	}
	// Alice signed another seq 1, and that one was committed.
	other, _ := interfaces.NewTransfer(k, 1, interfaces.Hash{}, interfaces.DevStar("elsewhere"), 2)
	h[alice] = struct {
		seq  uint64
		last interfaces.Hash
	}{1, other.ID()}
	p.Committed([]*interfaces.Transaction{other})
	for i, want := range []string{"took sequence 1", "names previous transaction", "follows sequence 2"} {
		if pending, why := p.Status(mine[i].ID()); pending || !strings.Contains(why, want) {
			t.Fatalf("seq %d: pending %v, reason %q; want one saying %q", i+1, pending, why, want)
		}
	}
	if _, why := p.Status(other.ID()); why != "" {
		t.Fatalf("the committed transaction has reason %q", why)
	}
	// Bob's seq 2 waits behind a seq 1 that never comes.
	bob := transfer(t, interfaces.DevKey("bob"), 2, 1)
	if err := p.Add(bob); err != nil {
		t.Fatal(err)
	}
	for range 32 { // the gap sweep runs every 16 blocks
		p.Committed(nil)
	}
	if _, why := p.Status(bob.ID()); !strings.Contains(why, "behind a gap") || !strings.Contains(why, "sequence 1 never arrived") {
		t.Fatalf("bob's seq 2 after 32 blocks behind a gap: %q", why)
	}
	// Carol's the ledger refuses.
	carol := chained(t, interfaces.DevKey("carol"), 1, interfaces.Hash{}, 1)[0]
	if err := p.Add(carol); err != nil {
		t.Fatal(err)
	}
	p.Drop([]*interfaces.Transaction{carol}, []error{errors.New("bad counter-signature")})
	if _, why := p.Status(carol.ID()); why != "the ledger refused it: bad counter-signature" {
		t.Fatalf("carol's: %q", why)
	}
	if want := map[string]int{ForgotSuperseded: 1, ForgotWrongPrev: 2, ForgotGap: 1, ForgotRefused: 1}; !maps.Equal(kinds, want) {
		t.Fatalf("the drops were told as %v, want %v", kinds, want)
	}
	if pending, why := p.Status(interfaces.Hash{1}); pending || why != "" {
		t.Fatalf("a transaction never seen: pending %v, reason %q", pending, why)
	}
}

// TestTheReasonsKeptAreBounded: past maxWhy dropped transactions the
// oldest reasons are forgotten.
func TestTheReasonsKeptAreBounded(t *testing.T) {
	p := New(Options{})
	var first interfaces.Hash
	for i := range maxWhy + 10 {
		tx := transfer(t, interfaces.DevKey(fmt.Sprint("sender-", i)), 1, 1)
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tx.ID()
		}
		p.Drop([]*interfaces.Transaction{tx}, nil)
	}
	if len(p.why) > maxWhy || len(p.forgotten) > maxWhy {
		t.Fatalf("%d reasons kept, %d ids, want at most %d", len(p.why), len(p.forgotten), maxWhy)
	}
	if _, why := p.Status(first); why != "" {
		t.Fatalf("the oldest reason is still kept: %q", why)
	}
}

// TestATransactionWhoseSenderStaysShortIsDroppedAfterShortBlocks: the
// ledger refuses a transfer whose sender cannot pay it; the pool keeps it
// (a payment to the sender may be on its way) for ShortBlocks decided
// blocks that refuse it, then drops it and what chains from it, saying
// why, and no longer counts them includable.
func TestATransactionWhoseSenderStaysShortIsDroppedAfterShortBlocks(t *testing.T) {
	var kinds []string
	p := New(Options{ShortBlocks: 3, Forgot: func(k string) { kinds = append(kinds, k) }})
	txs := chained(t, interfaces.DevKey("poor"), 1, interfaces.Hash{}, 2)
	for _, tx := range txs {
		if err := p.Add(tx); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		p.Short(txs[:1])
	}
	if p.Len() != 2 || p.Includable() != 2 {
		t.Fatalf("after 2 short blocks: len %d includable %d, want both kept", p.Len(), p.Includable())
	}
	p.Short(txs[:1])
	if p.Len() != 0 || p.Includable() != 0 {
		t.Fatalf("after 3 short blocks: len %d includable %d, want 0 and 0", p.Len(), p.Includable())
	}
	if _, why := p.Status(txs[0].ID()); !strings.Contains(why, "balance stayed short of the 1 it sends") {
		t.Fatalf("reason %q", why)
	}
	if _, why := p.Status(txs[1].ID()); !strings.Contains(why, "follows sequence 1") {
		t.Fatalf("reason of the next %q", why)
	}
	if !slices.Equal(kinds, []string{ForgotShort, ForgotShort}) {
		t.Fatalf("told %v", kinds)
	}
}
