// Package loadgen makes a stream of valid, signed transfers for development
// networks and benchmarks: a faucet funds a set of wallets, then the wallets
// pay each other small random amounts. It tracks each account's chain (next
// sequence number and previous transaction) so every transaction it makes is
// valid when applied in order. A Driver offers the stream to nodes through a
// Sink (their APIs, in the testnet) at a rate, in batches with as many in
// flight as the rate needs, and counts what it offered, what the nodes
// accepted and what the chain committed. Keys are development keys
// (interfaces.DevKey): anyone can derive them, so this never runs against a
// real network.
package loadgen

import (
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"

	"github.com/constellation-chain/constellation/interfaces"
)

type account struct {
	key  ed25519.PrivateKey
	id   interfaces.StarID
	seq  uint64 // last issued sequence
	prev interfaces.Hash
}

// Generator is not safe for concurrent use, except for Sign and
// Accounts.
type Generator struct {
	faucet  *account
	wallets []*account
	funded  int
	fund    uint64
	rng     *rand.Rand
	// lastSeen is each account's committed sequence at the last Stalled.
	lastSeen map[interfaces.StarID]uint64
	// communities, when above 1, groups wallet i into community i mod
	// communities; a transfer stays in its sender's community with
	// probability intra.
	communities int
	intra       float64
	// keys holds every account's key by identity; fixed at New, so Sign
	// may read it from any goroutine.
	keys map[interfaces.StarID]ed25519.PrivateKey
}

// WithCommunities makes the wallets pay each other with community
// structure: wallet i belongs to community i mod k, and a transfer goes to
// a wallet of the sender's community with probability intra, else to any
// wallet. It is what locality placement learns from. It returns g.
func (g *Generator) WithCommunities(k int, intra float64) *Generator {
	g.communities, g.intra = k, intra
	return g
}

// New returns a generator paying from faucet to n development wallets, each
// first funded with fund noOs. seed makes the stream reproducible.
func New(faucet ed25519.PrivateKey, n int, fund uint64, seed uint64) *Generator {
	g := &Generator{faucet: newAccount(faucet), fund: fund, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
	for i := 0; i < n; i++ {
		g.wallets = append(g.wallets, newAccount(interfaces.DevKey(fmt.Sprintf("loadgen-wallet-%d", i))))
	}
	g.keys = map[interfaces.StarID]ed25519.PrivateKey{g.faucet.id: g.faucet.key}
	for _, w := range g.wallets {
		g.keys[w.id] = w.key
	}
	return g
}

func newAccount(key ed25519.PrivateKey) *account {
	id, _ := interfaces.StarIDFromPublicKey(key.Public().(ed25519.PublicKey))
	return &account{key: key, id: id}
}

// Accounts returns the faucet and wallet identities.
func (g *Generator) Accounts() []interfaces.StarID {
	out := []interfaces.StarID{g.faucet.id}
	for _, w := range g.wallets {
		out = append(out, w.id)
	}
	return out
}

// Sync sets every account's chain position from committed state, so a
// generator can resume against a network that already has its history.
// Wallets with a balance count as funded.
func (g *Generator) Sync(head func(interfaces.StarID) (uint64, interfaces.Hash, error), balance func(interfaces.StarID) (uint64, error)) error {
	for _, a := range append([]*account{g.faucet}, g.wallets...) {
		seq, last, err := head(a.id)
		if err != nil {
			return fmt.Errorf("read chain head of %s: %w", a.id.Short(), err)
		}
		a.seq, a.prev = seq, last
	}
	g.funded = 0
	for _, w := range g.wallets {
		b, err := balance(w.id)
		if err != nil {
			return fmt.Errorf("read balance of %s: %w", w.id.Short(), err)
		}
		if b == 0 {
			break
		}
		g.funded++
	}
	return nil
}

// Next returns the next transaction, signed: a faucet payment until every
// wallet is funded, then a random payment between two wallets. Call Undo
// if it was not accepted, so the sender's chain does not skip a sequence
// number.
func (g *Generator) Next() (*interfaces.Transaction, error) {
	tx := g.NextUnsigned()
	if err := g.Sign(tx); err != nil {
		return nil, err
	}
	return tx, nil
}

// NextUnsigned is Next without the signature, which is most of Next's
// cost: a transaction's id (what its sender's next one chains from)
// covers its body and not its signature, so the stream can run ahead and
// the signatures be made later, on other goroutines, with Sign.
func (g *Generator) NextUnsigned() *interfaces.Transaction {
	var from, to *account
	var amount uint64
	if g.funded < len(g.wallets) || len(g.wallets) < 2 {
		from, to, amount = g.faucet, g.wallets[g.funded%len(g.wallets)], g.fund
	} else {
		n := len(g.wallets)
		i := g.rng.IntN(n)
		j := g.rng.IntN(n - 1)
		if j >= i {
			j++
		}
		if k := g.communities; k > 1 && g.rng.Float64() < g.intra {
			// Another wallet of i's community (i mod k), if it has one.
			if size := (n - i%k + k - 1) / k; size > 1 {
				r := g.rng.IntN(size - 1)
				if r >= i/k {
					r++
				}
				j = i%k + r*k
			}
		}
		from, to, amount = g.wallets[i], g.wallets[j], 1+g.rng.Uint64N(100)
	}
	tx := &interfaces.Transaction{
		Sender:  from.id,
		Seq:     from.seq + 1,
		Prev:    from.prev,
		Kind:    interfaces.TxTransfer,
		Payload: interfaces.TransferPayload{To: to.id, Amount: amount}.Encode(),
	}
	if from == g.faucet {
		g.funded++
	}
	from.seq++
	from.prev = tx.ID()
	return tx
}

// Sign signs a transaction NextUnsigned made with its sender's key. It
// touches no stream state: safe to call from any goroutine, at any time.
func (g *Generator) Sign(tx *interfaces.Transaction) error {
	key, ok := g.keys[tx.Sender]
	if !ok {
		return fmt.Errorf("loadgen: sign transfer: %s is none of the generator's accounts", tx.Sender.Short())
	}
	if err := tx.Sign(key); err != nil {
		return fmt.Errorf("loadgen: sign transfer: %w", err)
	}
	return nil
}

// Undo takes back the last transaction Next returned for tx's sender.
func (g *Generator) Undo(tx *interfaces.Transaction) {
	for _, a := range append([]*account{g.faucet}, g.wallets...) {
		if a.id == tx.Sender && a.seq == tx.Seq {
			a.seq--
			a.prev = tx.Prev
			if a == g.faucet && g.funded > 0 {
				g.funded--
			}
			return
		}
	}
}

// Stalled returns the accounts whose issued transactions are ahead of
// their committed chain while the committed chain has not moved since the
// previous call: their pending transactions were probably lost (a node
// restarted, or one was refused). Resync sets them back to the committed
// head so the stream continues from there. An account whose head cannot
// be read is skipped this time; the error is never fatal (it is kept in
// the signature for callers that log it).
func (g *Generator) Stalled(head func(interfaces.StarID) (uint64, interfaces.Hash, error)) ([]interfaces.StarID, error) {
	if g.lastSeen == nil {
		g.lastSeen = map[interfaces.StarID]uint64{}
	}
	var out []interfaces.StarID
	for _, a := range append([]*account{g.faucet}, g.wallets...) {
		seq, _, err := head(a.id)
		if err != nil {
			// Unreadable now (an account in migration between clusters,
			// a node restarting): judged at a later call. Failing the
			// whole check instead would leave every stalled account
			// stalled for good.
			continue
		}
		// Stalled means: already ahead and unmoved at the previous call,
		// and still so now. lastSeen holds the committed sequence, or
		// none when the account was not ahead.
		prev, wasAhead := g.lastSeen[a.id]
		ahead := a.seq > seq
		if ahead {
			g.lastSeen[a.id] = seq
		} else {
			delete(g.lastSeen, a.id)
		}
		if wasAhead && ahead && seq == prev {
			out = append(out, a.id)
			delete(g.lastSeen, a.id)
		}
	}
	return out, nil
}

// Resync sets star's chain position back to its committed head.
func (g *Generator) Resync(star interfaces.StarID, seq uint64, last interfaces.Hash) {
	for _, a := range append([]*account{g.faucet}, g.wallets...) {
		if a.id == star {
			a.seq, a.prev = seq, last
		}
	}
}
