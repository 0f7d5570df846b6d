package group

import (
	"errors"
	"slices"

	"github.com/constellation-chain/constellation/framework/hylochain"
	"github.com/constellation-chain/constellation/interfaces"
)

// signedCache remembers the signed consensus messages received lately, by
// sender and payload, so that a fault the engine reports with the
// offending payloads (interfaces.PayloadEvidence) can be turned into
// evidence a third party can check: the sender's own signatures. It is
// bounded; evidence older than its reach is simply not provable.
type signedCache struct {
	byKey map[interfaces.Hash]*interfaces.SignedMessage
	ring  []interfaces.Hash
	next  int
}

// maxSignedCache bounds the messages the cache holds.
const maxSignedCache = 1 << 15

func newSignedCache() *signedCache {
	return &signedCache{byKey: make(map[interfaces.Hash]*interfaces.SignedMessage)}
}

func payloadKey(from interfaces.StarID, payload []byte) interfaces.Hash {
	return interfaces.DomainSum("constellation/evidence-key/v1", from[:], payload)
}

func (c *signedCache) add(m *interfaces.SignedMessage) {
	k := payloadKey(m.From, m.Payload)
	if _, ok := c.byKey[k]; ok {
		return
	}
	if len(c.ring) < maxSignedCache {
		c.ring = append(c.ring, k)
	} else {
		delete(c.byKey, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % maxSignedCache
	}
	c.byKey[k] = m
}

func (c *signedCache) get(from interfaces.StarID, payload []byte) *interfaces.SignedMessage {
	return c.byKey[payloadKey(from, payload)]
}

// errLocalOnly marks a fault this node saw but cannot prove to others.
var errLocalOnly = errors.New("no signed messages prove it")

// provable turns a fault the engine reported into one with verifiable
// evidence, or says why it cannot.
func (n *Group) provable(f interfaces.Fault) (interfaces.Fault, error) {
	payloads, err := interfaces.DecodePayloadEvidence(f.Evidence)
	if err != nil || len(payloads) == 0 {
		return f, errLocalOnly
	}
	ev := interfaces.Evidence{}
	for _, p := range payloads {
		m := n.signed.get(f.Star, p)
		if m == nil {
			return f, errLocalOnly
		}
		ev.Messages = append(ev.Messages, *m)
	}
	out := interfaces.Fault{Star: f.Star, Kind: f.Kind, Epoch: ev.Messages[0].Epoch, Evidence: ev.Encode()}
	if len(out.Evidence) > interfaces.MaxEvidenceBytes {
		return f, errLocalOnly
	}
	if err := interfaces.VerifyFault(n.instance, n.checker, out); err != nil {
		return f, err
	}
	return out, nil
}

// pendingFault is provable evidence waiting to be carried in one of this
// node's contributions.
type pendingFault struct {
	fault interfaces.Fault
	// proposedIn is the epoch whose contribution last carried it; 0 with
	// proposed false means not carried yet.
	proposedIn uint64
	proposed   bool
}

// faultBook tracks the evidence this node carries into the chain: what is
// pending, and what the chain already holds (so it is not proposed again).
type faultBook struct {
	pending map[hylochain.FaultKey]*pendingFault
	onChain map[hylochain.FaultKey]struct{}
	order   []hylochain.FaultKey // onChain keys, oldest first, for bounding
	local   uint64               // faults seen that could not be proven
}

// maxOnChainKeys bounds the remembered on-chain fault keys.
const maxOnChainKeys = 1 << 14

func newFaultBook() *faultBook {
	return &faultBook{pending: map[hylochain.FaultKey]*pendingFault{}, onChain: map[hylochain.FaultKey]struct{}{}}
}

// add queues f unless it is queued or on chain already.
func (b *faultBook) add(f interfaces.Fault) {
	k := hylochain.KeyOf(f)
	if _, ok := b.onChain[k]; ok {
		return
	}
	if _, ok := b.pending[k]; ok {
		return
	}
	b.pending[k] = &pendingFault{fault: f}
}

// take returns the evidence to carry in the contribution to epoch, at
// most interfaces.MaxBatchFaults, in key order: what was never carried,
// and what was carried in an epoch already decided (decided) without
// reaching the chain (its contribution was left out of the agreed set).
func (b *faultBook) take(epoch, decided uint64, anyDecided bool) []interfaces.Fault {
	var keys []hylochain.FaultKey
	for k, p := range b.pending {
		if !p.proposed || (anyDecided && p.proposedIn <= decided) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, hylochain.CompareFaultKeys)
	if len(keys) > interfaces.MaxBatchFaults {
		keys = keys[:interfaces.MaxBatchFaults]
	}
	out := make([]interfaces.Fault, 0, len(keys))
	for _, k := range keys {
		p := b.pending[k]
		p.proposed, p.proposedIn = true, epoch
		out = append(out, p.fault)
	}
	return out
}

// waiting reports whether evidence is queued that no block holds yet.
func (b *faultBook) waiting() bool { return len(b.pending) > 0 }

// committed records the faults a committed block holds.
func (b *faultBook) committed(fs []interfaces.Fault) {
	for _, f := range fs {
		k := hylochain.KeyOf(f)
		delete(b.pending, k)
		if _, ok := b.onChain[k]; ok {
			continue
		}
		b.onChain[k] = struct{}{}
		b.order = append(b.order, k)
	}
	for len(b.order) > maxOnChainKeys {
		delete(b.onChain, b.order[0])
		b.order = b.order[1:]
	}
}
