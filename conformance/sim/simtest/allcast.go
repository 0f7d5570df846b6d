// Package simtest holds small, correct consensus engines for testing the
// simulator and the conformance suite itself, in the way net/http/httptest
// holds test servers. They are not fault tolerant and must never run in a
// real network.
package simtest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/interfaces"
)

// AllcastFactory builds Allcast engines: every member broadcasts its
// contribution, and an epoch is decided once a member holds all N
// contributions for it, ordered by proposer (the members' sorted order).
// Agreement and validity follow because every member decides the same N
// contributions; it is live only while every member is live, so it claims
// CapMultiMember and nothing else.
type AllcastFactory struct{}

// Info implements interfaces.Plugin.
func (AllcastFactory) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind:         interfaces.KindConsensus,
		Name:         "allcast-test",
		Version:      "0.1.0",
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapMultiMember},
	}
}

// NewConsensus implements interfaces.ConsensusFactory.
func (AllcastFactory) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	return NewAllcast(cfg)
}

// MaxAhead bounds how many epochs past the current one an Allcast instance
// buffers contributions for; later messages are dropped as malformed.
const MaxAhead = 64

// MaxContribution bounds a contribution's size in a message.
const MaxContribution = 1 << 20

// Allcast is one member's state machine. It is not safe for concurrent use.
type Allcast struct {
	cfg     interfaces.ConsensusConfig
	epoch   uint64              // the oldest undecided epoch
	pending map[uint64][][]byte // epoch -> contribution per member index (nil: not yet)
}

// NewAllcast checks cfg and returns a fresh instance at cfg.Epoch.
func NewAllcast(cfg interfaces.ConsensusConfig) (*Allcast, error) {
	if cfg.Index(cfg.Self) < 0 {
		return nil, fmt.Errorf("allcast: self %s is not a member", cfg.Self.Short())
	}
	for i := 1; i < len(cfg.Members); i++ {
		if !cfg.Members[i-1].Less(cfg.Members[i]) {
			return nil, errors.New("allcast: members are not sorted and unique")
		}
	}
	return &Allcast{cfg: cfg, epoch: cfg.Epoch, pending: map[uint64][][]byte{}}, nil
}

// EncodeMessage is the wire format: version 1, epoch, contribution.
func EncodeMessage(epoch uint64, contribution []byte) []byte {
	e := interfaces.NewEncoder(16 + len(contribution))
	e.U8(1)
	e.U64(epoch)
	e.VarBytes(contribution)
	return e.Bytes()
}

// DecodeMessage decodes EncodeMessage's output.
func DecodeMessage(b []byte) (epoch uint64, contribution []byte, err error) {
	d := interfaces.NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("allcast message version %d, want 1", v))
	}
	epoch = d.U64()
	contribution = d.VarBytes(MaxContribution)
	if err := d.Finish(); err != nil {
		return 0, nil, fmt.Errorf("decode allcast message: %w", err)
	}
	return epoch, contribution, nil
}

// Epoch implements interfaces.Consensus: the oldest undecided epoch. The
// host proposes to it once; Propose returns an error on a second call.
func (a *Allcast) Epoch() uint64 { return a.epoch }

// Propose implements interfaces.Consensus.
func (a *Allcast) Propose(c []byte) (interfaces.Output, error) {
	if len(c) > MaxContribution {
		return interfaces.Output{}, fmt.Errorf("allcast: contribution of %d bytes exceeds %d", len(c), MaxContribution)
	}
	me := a.cfg.Index(a.cfg.Self)
	slots := a.slots(a.epoch)
	if slots[me] != nil {
		return interfaces.Output{}, fmt.Errorf("allcast: already proposed for epoch %d", a.epoch)
	}
	slots[me] = append([]byte{}, c...)
	out := interfaces.Output{Messages: []interfaces.OutMessage{{To: interfaces.Broadcast, Payload: EncodeMessage(a.epoch, c)}}}
	a.decide(&out)
	return out, nil
}

// Step implements interfaces.Consensus. Unknown senders, old epochs and
// duplicates are ignored; malformed messages, messages too far ahead and
// conflicting duplicates are reported as faults.
func (a *Allcast) Step(from interfaces.StarID, payload []byte) (interfaces.Output, error) {
	var out interfaces.Output
	idx := a.cfg.Index(from)
	if idx < 0 || from == a.cfg.Self {
		return out, nil
	}
	ep, c, err := DecodeMessage(payload)
	if err != nil {
		out.Faults = append(out.Faults, interfaces.Fault{Star: from, Kind: interfaces.FaultMalformed, Epoch: a.epoch, Evidence: bytes.Clone(payload)})
		return out, nil
	}
	if ep < a.epoch {
		return out, nil
	}
	if ep-a.epoch > MaxAhead {
		out.Faults = append(out.Faults, interfaces.Fault{Star: from, Kind: interfaces.FaultMalformed, Epoch: ep, Evidence: bytes.Clone(payload)})
		return out, nil
	}
	slots := a.slots(ep)
	switch {
	case slots[idx] == nil:
		slots[idx] = bytes.Clone(c)
		if slots[idx] == nil {
			slots[idx] = []byte{}
		}
	case !bytes.Equal(slots[idx], c):
		out.Faults = append(out.Faults, interfaces.Fault{Star: from, Kind: interfaces.FaultEquivocation, Epoch: ep, Evidence: bytes.Clone(payload)})
	}
	a.decide(&out)
	return out, nil
}

func (a *Allcast) slots(ep uint64) [][]byte {
	s := a.pending[ep]
	if s == nil {
		s = make([][]byte, len(a.cfg.Members))
		a.pending[ep] = s
	}
	return s
}

// decide emits every complete epoch in order.
func (a *Allcast) decide(out *interfaces.Output) {
	for {
		s := a.pending[a.epoch]
		if s == nil {
			return
		}
		for _, c := range s {
			if c == nil {
				return
			}
		}
		d := interfaces.Decision{Epoch: a.epoch}
		for i, c := range s {
			d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: a.cfg.Members[i], Data: c})
		}
		out.Decisions = append(out.Decisions, d)
		delete(a.pending, a.epoch)
		a.epoch++
	}
}
