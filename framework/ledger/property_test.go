package ledger_test

import (
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/framework/ledger"
	"github.com/constellation-chain/constellation/framework/ledger/ledgertest"
	"github.com/constellation-chain/constellation/interfaces"
)

// The properties below drive random chains through a Builder and check its
// verdict on every transaction against a simple model of the rules: valid
// transfers and data entries, and invalid ones of every kind (overdraw,
// sequence gap, wrong previous hash, replay, stale sequence, double spend,
// bad signature, tampered body, malformed payload). The World is small and
// poor so that overdraws and empty accounts are common.

var propWorld = ledgertest.NewWorld("prop", 4, 1000)

// model is the reference state: plain maps updated only when the model
// expects acceptance.
type model struct {
	bal      []uint64
	seq      []uint64
	last     []interfaces.Hash
	lastTx   []*interfaces.Transaction
	accepted []*interfaces.Transaction
	nonce    int
}

func newModel(w *ledgertest.World) *model {
	m := &model{
		bal:    make([]uint64, len(w.Stars)),
		seq:    make([]uint64, len(w.Stars)),
		last:   make([]interfaces.Hash, len(w.Stars)),
		lastTx: make([]*interfaces.Transaction, len(w.Stars)),
	}
	for i, a := range w.Genesis.Allocations {
		m.bal[i] = a.Amount
	}
	return m
}

type chainRun struct {
	st     *ledger.MemState
	blocks []*interfaces.Block
	m      *model
}

// sign builds and signs a transaction of from's chain; it fails the test
// only on a signing error, which would be a helper bug.
func sign(t *rapid.T, w *ledgertest.World, from int, seq uint64, prev interfaces.Hash, kind interfaces.TxKind, payload []byte) *interfaces.Transaction {
	tx := &interfaces.Transaction{Sender: w.Stars[from], Seq: seq, Prev: prev, Kind: kind, Payload: payload}
	if err := tx.Sign(w.Keys[from]); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return tx
}

func transferPayload(w *ledgertest.World, to int, amount uint64) []byte {
	return interfaces.TransferPayload{To: w.Stars[to], Amount: amount}.Encode()
}

var actions = []string{"transfer", "transfer", "transfer", "data", "overdraw", "gap", "wrongprev", "replay", "doublespend", "stale", "badsig", "tamper", "malformed"}

// nextTx draws one action and returns the transaction with the sentinel the
// model expects (nil for acceptance) and the recipient/amount of a transfer.
func (m *model) nextTx(t *rapid.T, w *ledgertest.World) (tx *interfaces.Transaction, want error) {
	n := len(w.Stars)
	from := rapid.IntRange(0, n-1).Draw(t, "from")
	to := (from + rapid.IntRange(1, n-1).Draw(t, "toOffset")) % n
	m.nonce++
	unique := []byte(fmt.Sprintf("nonce-%d", m.nonce))
	next, last := m.seq[from]+1, m.last[from]
	switch action := rapid.SampledFrom(actions).Draw(t, "action"); action {
	case "transfer":
		if m.bal[from] == 0 {
			return sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, to, 1)), ledger.ErrInsufficientBalance
		}
		amount := rapid.Uint64Range(1, m.bal[from]).Draw(t, "amount")
		return sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, to, amount)), nil
	case "data":
		return sign(t, w, from, next, last, interfaces.TxData, unique), nil
	case "overdraw":
		amount := m.bal[from] + rapid.Uint64Range(1, 1000).Draw(t, "excess")
		return sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, to, amount)), ledger.ErrInsufficientBalance
	case "gap":
		seq := next + rapid.Uint64Range(1, 5).Draw(t, "skip")
		return sign(t, w, from, seq, last, interfaces.TxData, unique), ledger.ErrSequenceGap
	case "wrongprev":
		return sign(t, w, from, next, interfaces.Sum(unique), interfaces.TxData, unique), ledger.ErrWrongPrev
	case "replay":
		if len(m.accepted) == 0 {
			return sign(t, w, from, next, last, interfaces.TxData, unique), nil
		}
		i := rapid.IntRange(0, len(m.accepted)-1).Draw(t, "replayed")
		return m.accepted[i], ledger.ErrReplay
	case "doublespend":
		prev := m.lastTx[from]
		if prev == nil {
			return sign(t, w, from, next, last, interfaces.TxData, unique), nil
		}
		return sign(t, w, from, prev.Seq, prev.Prev, interfaces.TxData, unique), ledger.ErrDoubleSpend
	case "stale":
		if m.seq[from] < 2 {
			return sign(t, w, from, next, last, interfaces.TxData, unique), nil
		}
		seq := rapid.Uint64Range(1, m.seq[from]-1).Draw(t, "staleSeq")
		return sign(t, w, from, seq, interfaces.Sum(unique), interfaces.TxData, unique), ledger.ErrReplay
	case "badsig":
		tx := sign(t, w, from, next, last, interfaces.TxData, unique)
		bit := rapid.IntRange(0, len(tx.Sig)*8-1).Draw(t, "bit")
		tx.Sig[bit/8] ^= 1 << (bit % 8)
		return tx, ledger.ErrBadSignature
	case "tamper":
		amount := rapid.Uint64Range(1, 1<<40).Draw(t, "amount")
		tx := sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, to, amount))
		tx.Payload = transferPayload(w, to, amount+1)
		return tx, ledger.ErrBadSignature
	case "malformed":
		switch rapid.IntRange(0, 4).Draw(t, "malformation") {
		case 0:
			return sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, to, 0)), ledger.ErrMalformed
		case 1:
			return sign(t, w, from, next, last, interfaces.TxTransfer, transferPayload(w, from, 1)), ledger.ErrMalformed
		case 2:
			return sign(t, w, from, next, last, interfaces.TxKind(200), unique), ledger.ErrMalformed
		case 3:
			return sign(t, w, from, 0, last, interfaces.TxData, unique), ledger.ErrMalformed
		default:
			return sign(t, w, from, next, last, interfaces.TxTransfer, unique), ledger.ErrMalformed
		}
	default:
		t.Fatalf("unknown action %q", action)
		return nil, nil
	}
}

// accept updates the model for an accepted transaction.
func (m *model) accept(w *ledgertest.World, tx *interfaces.Transaction) {
	from := indexOf(w, tx.Sender)
	if tx.Kind == interfaces.TxTransfer {
		p, _ := interfaces.DecodeTransferPayload(tx.Payload)
		m.bal[from] -= p.Amount
		m.bal[indexOf(w, p.To)] += p.Amount
	}
	m.seq[from] = tx.Seq
	m.last[from] = tx.ID()
	m.lastTx[from] = tx
	m.accepted = append(m.accepted, tx)
}

func indexOf(w *ledgertest.World, s interfaces.StarID) int {
	for i, x := range w.Stars {
		if x == s {
			return i
		}
	}
	return -1
}

// runChain builds 1-4 random blocks, checking every verdict against the
// model, committing each block to a MemState and calling afterBlock.
func runChain(t *rapid.T, afterBlock func(st *ledger.MemState, m *model)) chainRun {
	w := propWorld
	st, err := ledger.NewMemState(w.Genesis)
	if err != nil {
		t.Fatalf("genesis: %v", err)
	}
	m := newModel(w)
	var blocks []*interfaces.Block
	nBlocks := rapid.IntRange(1, 4).Draw(t, "blocks")
	for h := 1; h <= nBlocks; h++ {
		bl := ledger.NewBuilder(st, 0, st.Parent())
		nTx := rapid.IntRange(0, 10).Draw(t, "txs")
		for i := 0; i < nTx; i++ {
			tx, want := m.nextTx(t, w)
			err := bl.Apply(tx)
			switch {
			case want == nil && err != nil:
				t.Fatalf("block %d tx %d: valid transaction rejected: %v", h, i, err)
			case want != nil && err == nil:
				t.Fatalf("block %d tx %d: accepted, want %v", h, i, want)
			case want != nil && !errors.Is(err, want):
				t.Fatalf("block %d tx %d: got %v, want %v", h, i, err, want)
			case want != nil && !errors.Is(err, ledger.ErrInvalidTx):
				t.Fatalf("block %d tx %d: %v does not match ErrInvalidTx", h, i, err)
			}
			if err == nil {
				m.accept(w, tx)
			}
		}
		b, ch := bl.Finish(uint64(h), int64(h)*1000, interfaces.BlockMeta{})
		if err := st.Commit(b, ch); err != nil {
			t.Fatalf("commit block %d: %v", h, err)
		}
		blocks = append(blocks, b)
		if afterBlock != nil {
			afterBlock(st, m)
		}
	}
	return chainRun{st: st, blocks: blocks, m: m}
}

func TestSupplyIsConserved(t *testing.T) {
	supply := propWorld.Genesis.Supply()
	rapid.Check(t, func(t *rapid.T) {
		runChain(t, func(st *ledger.MemState, _ *model) {
			if got := st.Snapshot().Supply(); got != supply {
				t.Fatalf("height %d: supply %d, genesis %d", st.Parent().Height, got, supply)
			}
		})
	})
}

func TestNoBalanceGoesNegative(t *testing.T) {
	// Every overdraw is rejected (checked in runChain) and every balance
	// equals the model's, which never subtracts more than it holds: a uint64
	// underflow would show as a huge balance here.
	supply := propWorld.Genesis.Supply()
	rapid.Check(t, func(t *rapid.T) {
		runChain(t, func(st *ledger.MemState, m *model) {
			for i, s := range propWorld.Stars {
				got, _ := st.Balance(s)
				if got != m.bal[i] {
					t.Fatalf("star %d: balance %d, model %d", i, got, m.bal[i])
				}
				if got > supply {
					t.Fatalf("star %d: balance %d exceeds supply %d (underflow)", i, got, supply)
				}
			}
		})
	})
}

func TestCommittedSequencesAreGapFree(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := runChain(t, nil)
		next := map[interfaces.StarID]uint64{}
		prev := map[interfaces.StarID]interfaces.Hash{}
		for _, b := range run.blocks {
			for _, tx := range b.Txs {
				if tx.Seq != next[tx.Sender]+1 {
					t.Fatalf("block %d: star %s seq %d after %d", b.Header.Height, tx.Sender.Short(), tx.Seq, next[tx.Sender])
				}
				if tx.Prev != prev[tx.Sender] {
					t.Fatalf("block %d: star %s seq %d does not link to its previous transaction", b.Header.Height, tx.Sender.Short(), tx.Seq)
				}
				next[tx.Sender], prev[tx.Sender] = tx.Seq, tx.ID()
			}
		}
		for s, seq := range next {
			if got, last, _ := run.st.ChainHead(s); got != seq || last != prev[s] {
				t.Fatalf("star %s: head (%d, %s), blocks end at (%d, %s)", s.Short(), got, last.Short(), seq, prev[s].Short())
			}
		}
	})
}

func TestReplayedTransactionIsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := runChain(t, nil)
		if len(run.m.accepted) == 0 {
			return
		}
		tx := rapid.SampledFrom(run.m.accepted).Draw(t, "replayed")
		bl := ledger.NewBuilder(run.st, 0, run.st.Parent())
		if err := bl.Apply(tx); !errors.Is(err, ledger.ErrReplay) {
			t.Fatalf("replay of committed tx: got %v, want ErrReplay", err)
		}
	})
}

func TestDoubleSpendIsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := runChain(t, nil)
		from := rapid.IntRange(0, len(propWorld.Stars)-1).Draw(t, "from")
		prev := run.m.lastTx[from]
		if prev == nil {
			return
		}
		// A second, different transaction for the committed head slot.
		fork := sign(t, propWorld, from, prev.Seq, prev.Prev, interfaces.TxData, []byte("fork"))
		bl := ledger.NewBuilder(run.st, 0, run.st.Parent())
		if err := bl.Apply(fork); !errors.Is(err, ledger.ErrDoubleSpend) {
			t.Fatalf("conflicting tx for a committed slot: got %v, want ErrDoubleSpend", err)
		}
		// And two conflicting ones inside one block.
		a := sign(t, propWorld, from, prev.Seq+1, prev.ID(), interfaces.TxData, []byte("a"))
		b := sign(t, propWorld, from, prev.Seq+1, prev.ID(), interfaces.TxData, []byte("b"))
		if err := bl.Apply(a); err != nil {
			t.Fatalf("first of two conflicting txs: %v", err)
		}
		if err := bl.Apply(b); !errors.Is(err, ledger.ErrDoubleSpend) {
			t.Fatalf("conflicting tx in the same block: got %v, want ErrDoubleSpend", err)
		}
	})
}

func TestBadSignatureIsRejected(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := runChain(t, nil)
		from := rapid.IntRange(0, len(propWorld.Stars)-1).Draw(t, "from")
		tx, err := propWorld.Data(run.st, from, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		// Either the signature is damaged, or another star's key signed.
		if rapid.Bool().Draw(t, "wrongKey") {
			other := (from + 1) % len(propWorld.Stars)
			msg := tx.SigningBytes()
			copy(tx.Sig[:], ed25519Sign(propWorld, other, msg))
		} else {
			i := rapid.IntRange(0, len(tx.Sig)-1).Draw(t, "byte")
			tx.Sig[i] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		}
		bl := ledger.NewBuilder(run.st, 0, run.st.Parent())
		err = bl.Apply(tx)
		if !errors.Is(err, ledger.ErrBadSignature) || !errors.Is(err, interfaces.ErrBadSignature) {
			t.Fatalf("bad signature: got %v, want ErrBadSignature", err)
		}
		if bl.Len() != 0 {
			t.Fatalf("rejected tx entered the block")
		}
	})
}

func TestReplayFromGenesisReproducesState(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		run := runChain(t, nil)
		st, err := ledger.Replay(propWorld.Genesis, run.blocks)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if d := st.Snapshot().Diff(run.st.Snapshot()); d != "" {
			t.Fatalf("replayed state differs: %s", d)
		}
	})
}
