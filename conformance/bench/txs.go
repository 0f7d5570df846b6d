package bench

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"

	sha256 "github.com/minio/sha256-simd"

	"github.com/constellation-chain/constellation/interfaces"
)

// DefaultTxSize is the size of one benchmark transaction in bytes.
const DefaultTxSize = 250

// txKey identifies a transaction for deduplication: the first 16 bytes of
// the sha256 of its encoding (collisions are negligible at benchmark
// sizes).
type txKey [16]byte

func keyOf(raw []byte) txKey {
	s := sha256.Sum256(raw)
	var k txKey
	copy(k[:], s[:16])
	return k
}

// signedOverhead is the encoded size of a TxData transaction with an empty
// payload and no counter-signature, minus the payload's length prefix:
// version 1, sender 32, seq 8, prev 32, kind 1, counterparty 32, sig 64,
// counter-signature length 1.
const signedOverhead = 1 + 32 + 8 + 32 + 1 + 32 + 64 + 1

// signedPayloadLen returns the payload length that makes a signed TxData
// transaction encode to size bytes, or to size+1 where the payload's
// length prefix grows a byte at exactly that size.
func signedPayloadLen(size int) (int, error) {
	for p := max(0, size-signedOverhead-binary.MaxVarintLen64); p <= size-signedOverhead; p++ {
		if p+len(binary.AppendUvarint(nil, uint64(p)))+signedOverhead >= size {
			return p, nil
		}
	}
	return 0, fmt.Errorf("a signed transaction cannot encode to %d bytes (at least %d)", size, signedOverhead+1)
}

// txGen makes one member's stream of fresh transactions. It stands for the
// clients submitting to that member; its cost is not the member's.
type txGen struct {
	rng     *rand.ChaCha8
	size    int
	signed  bool
	payload int
	clients []ed25519.PrivateKey
	senders []interfaces.StarID
	seq     []uint64
	next    int
}

// clientsPerMember is how many client keys sign a member's transactions.
const clientsPerMember = 8

func newTxGen(seed [32]byte, size int, signed bool) (*txGen, error) {
	g := &txGen{rng: rand.NewChaCha8(seed), size: size, signed: signed}
	if !signed {
		if size < 16 {
			return nil, fmt.Errorf("transactions of %d bytes are too small (at least 16)", size)
		}
		return g, nil
	}
	p, err := signedPayloadLen(size)
	if err != nil {
		return nil, err
	}
	g.payload = p
	for range clientsPerMember {
		var s [ed25519.SeedSize]byte
		g.rng.Read(s[:])
		k := ed25519.NewKeyFromSeed(s[:])
		id, err := interfaces.StarIDFromPublicKey(k.Public().(ed25519.PublicKey))
		if err != nil {
			return nil, fmt.Errorf("make client key: %w", err)
		}
		g.clients = append(g.clients, k)
		g.senders = append(g.senders, id)
		g.seq = append(g.seq, 0)
	}
	return g, nil
}

// next returns one fresh encoded transaction and its key.
func (g *txGen) make() (poolTx, error) {
	if !g.signed {
		raw := make([]byte, g.size)
		g.rng.Read(raw)
		return poolTx{raw: raw, key: keyOf(raw)}, nil
	}
	c := g.next % len(g.clients)
	g.next++
	g.seq[c]++
	t := &interfaces.Transaction{
		Sender:  g.senders[c],
		Seq:     g.seq[c],
		Kind:    interfaces.TxData,
		Payload: make([]byte, g.payload),
	}
	g.rng.Read(t.Payload)
	if err := t.Sign(g.clients[c]); err != nil {
		return poolTx{}, fmt.Errorf("sign benchmark transaction: %w", err)
	}
	raw := t.Encode()
	if len(raw) != g.size && len(raw) != g.size+1 {
		return poolTx{}, fmt.Errorf("signed transaction encodes to %d bytes, want %d", len(raw), g.size)
	}
	return poolTx{raw: raw, key: keyOf(raw)}, nil
}

// poolTx is one pooled transaction in its encoding.
type poolTx struct {
	raw []byte
	key txKey
}

// pool is one member's transaction pool. proposed counts the entries at
// the front that form the member's outstanding proposal.
type pool struct {
	txs      []poolTx
	proposed int
	epoch    uint64 // epoch of the outstanding proposal
	pending  bool
}

// sample moves a uniformly random sample of k entries to the front
// (partial Fisher–Yates) and marks them proposed for epoch.
func (p *pool) sample(rng *rand.Rand, k int, epoch uint64) []poolTx {
	k = min(k, len(p.txs))
	for i := 0; i < k; i++ {
		j := i + rng.IntN(len(p.txs)-i)
		p.txs[i], p.txs[j] = p.txs[j], p.txs[i]
	}
	p.proposed, p.epoch, p.pending = k, epoch, true
	return p.txs[:k]
}

// committed drops the outstanding proposal of epoch from the pool.
func (p *pool) committed(epoch uint64) {
	if !p.pending || p.epoch != epoch {
		return
	}
	n := copy(p.txs, p.txs[p.proposed:])
	clear(p.txs[n:])
	p.txs = p.txs[:n]
	p.pending = false
}

// settle forgets the outstanding proposal of epoch after it was decided
// without it; its transactions stay pooled.
func (p *pool) settle(epoch uint64) {
	if p.pending && p.epoch == epoch {
		p.pending = false
	}
}

// encodeContribution builds a member's contribution: the raw
// concatenation of the transactions (unsigned mode) or an
// interfaces.TxBatch encoding (signed mode), byte for byte what
// TxBatch.Encode produces.
func encodeContribution(txs []poolTx, size int, signed bool, epoch uint64) []byte {
	if !signed {
		out := make([]byte, 0, len(txs)*size)
		for _, t := range txs {
			out = append(out, t.raw...)
		}
		return out
	}
	e := interfaces.NewEncoder(16 + len(txs)*size)
	e.U8(interfaces.TxBatchVersion)
	e.I64(int64(epoch))
	e.Uvarint(uint64(len(txs)))
	for _, t := range txs {
		e.Fixed(t.raw)
	}
	e.Uvarint(0) // no faults
	e.Uvarint(0) // no latency report
	return e.Bytes()
}

// errContribution marks a decided contribution that is not what an honest
// member of this benchmark can have proposed.
var errContribution = errors.New("decided contribution is malformed")

// splitContribution returns the raw transactions of a decided
// contribution, without verifying signatures.
func splitContribution(data []byte, size int, signed bool) ([][]byte, error) {
	if !signed {
		if len(data)%size != 0 {
			return nil, fmt.Errorf("%w: %d bytes is not a whole number of %d-byte transactions", errContribution, len(data), size)
		}
		out := make([][]byte, 0, len(data)/size)
		for off := 0; off < len(data); off += size {
			out = append(out, data[off:off+size])
		}
		return out, nil
	}
	d := interfaces.NewDecoder(data)
	if v := d.U8(); d.Err() == nil && v != interfaces.TxBatchVersion {
		return nil, fmt.Errorf("%w: batch version %d", errContribution, v)
	}
	d.I64()
	n := d.Len(interfaces.MaxBlockTxs)
	out := make([][]byte, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		start := d.Offset()
		interfaces.DecodeTransactionFrom(d)
		if d.Err() == nil {
			out = append(out, data[start:d.Offset()])
		}
	}
	if f, l := d.Uvarint(), d.Uvarint(); d.Err() == nil && (f != 0 || l != 0) {
		return nil, fmt.Errorf("%w: %d faults and %d latency reports; this benchmark's members carry none", errContribution, f, l)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", errContribution, err)
	}
	return out, nil
}

// verifyContribution decodes a decided batch as the host does and checks
// every transaction's signatures.
func verifyContribution(data []byte) (int, error) {
	b, err := interfaces.DecodeTxBatch(data)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errContribution, err)
	}
	for i, t := range b.Txs {
		if err := t.VerifySignatures(); err != nil {
			return i, fmt.Errorf("transaction %d of the batch: %w", i, err)
		}
	}
	return len(b.Txs), nil
}
