// Package testplugin holds small deterministic plugins that the RPC tests
// serve out of process: a toy consensus engine, a toy reputation, a toy
// partitioner and a toy contract runtime. They exist to exercise the wire
// layer (plugins and plugins/host), not to be good at their jobs, and they
// can be told through their params to misbehave (crash once, answer
// garbage) so the host's fault handling can be tested.
package testplugin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
)

// CrashPayload, proposed to the toy consensus, makes the plugin process
// exit with status 3 the first time it is seen in a directory (a marker
// file next to the binary records it), and behave normally afterwards.
// It only crashes a process started as a toy plugin (see MaybeServe), never
// a test process using the toy in process.
var CrashPayload = []byte("crash-once")

// CrashMarker is the file whose existence means the crash already happened.
func CrashMarker() string { return filepath.Join(filepath.Dir(os.Args[0]), "crashed-once") }

// Params is the JSON config block the toys accept.
type Params struct {
	// Garbage makes the instance answer wrongly: "epoch" (consensus:
	// decisions out of epoch order), "select" (reputation: a non-candidate
	// in the selection), "cluster" (partitioner: a cluster that does not
	// exist), "panic" (reputation and consensus: panic in the call),
	// "hang" (reputation: Score never returns).
	Garbage string `json:"garbage"`
}

func parseParams(raw []byte) (Params, error) {
	var p Params
	if len(raw) == 0 {
		return p, nil
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("toy params: %w", err)
	}
	return p, nil
}

// ---- consensus ----

// Consensus is the toy consensus factory: every member broadcasts its
// contribution; an epoch is decided once all members' contributions for
// it have arrived, ordered by proposer. It deals "keys" that are just each
// member's index and 8 bytes of the dealer's randomness.
type Consensus struct{}

// Info describes the toy consensus.
func (Consensus) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind: interfaces.KindConsensus, Name: "toy-consensus", Version: "0.1.0",
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapMultiMember},
		Config: []interfaces.ConfigField{
			{Name: "garbage", Type: interfaces.ConfigString, Doc: "misbehave: epoch"},
		},
	}
}

// NewConsensus builds an instance.
func (Consensus) NewConsensus(cfg interfaces.ConsensusConfig) (interfaces.Consensus, error) {
	p, err := parseParams(cfg.Params)
	if err != nil {
		return nil, err
	}
	if cfg.Index(cfg.Self) < 0 {
		return nil, errors.New("toy consensus: self is not a member")
	}
	return &toyConsensus{cfg: cfg, params: p, epoch: cfg.Epoch, decided: cfg.Epoch, pending: map[uint64]map[interfaces.StarID][]byte{}}, nil
}

// DealKeys gives each member its index and 8 bytes read from rnd.
func (Consensus) DealKeys(members []interfaces.StarID, faulty int, rnd io.Reader) ([][]byte, error) {
	return dealKeys(members, faulty, rnd)
}

type toyConsensus struct {
	cfg     interfaces.ConsensusConfig
	params  Params
	epoch   uint64 // next epoch to propose to
	decided uint64 // next epoch to decide
	pending map[uint64]map[interfaces.StarID][]byte
}

func (c *toyConsensus) Epoch() uint64 { return c.epoch }

func (c *toyConsensus) Propose(contribution []byte) (interfaces.Output, error) {
	if bytes.Equal(contribution, CrashPayload) && strings.HasPrefix(filepath.Base(os.Args[0]), BinaryPrefix) {
		if _, err := os.Stat(CrashMarker()); errors.Is(err, os.ErrNotExist) {
			if f, err := os.Create(CrashMarker()); err == nil {
				f.Close()
			}
			plugins.Logger().Error("toy consensus: crashing on purpose")
			os.Exit(3)
		}
	}
	if c.params.Garbage == "panic" {
		panic("toy consensus told to panic")
	}
	e := c.epoch
	c.epoch++
	var out interfaces.Output
	out.Messages = append(out.Messages, interfaces.OutMessage{To: interfaces.Broadcast, Payload: encodeToy(e, contribution)})
	out.Append(c.receive(c.cfg.Self, e, contribution))
	return out, nil
}

func (c *toyConsensus) Step(from interfaces.StarID, payload []byte) (interfaces.Output, error) {
	var out interfaces.Output
	e, data, ok := decodeToy(payload)
	if !ok || c.cfg.Index(from) < 0 {
		out.Faults = append(out.Faults, interfaces.Fault{Star: from, Kind: interfaces.FaultMalformed, Epoch: c.decided})
		return out, nil
	}
	if e < c.decided {
		return out, nil // late duplicate
	}
	return c.receive(from, e, data), nil
}

func (c *toyConsensus) receive(from interfaces.StarID, e uint64, data []byte) interfaces.Output {
	var out interfaces.Output
	if c.pending[e] == nil {
		c.pending[e] = map[interfaces.StarID][]byte{}
	}
	if _, dup := c.pending[e][from]; dup {
		out.Faults = append(out.Faults, interfaces.Fault{Star: from, Kind: interfaces.FaultEquivocation, Epoch: e})
		return out
	}
	c.pending[e][from] = append([]byte(nil), data...)
	for len(c.pending[c.decided]) == len(c.cfg.Members) {
		got := c.pending[c.decided]
		d := interfaces.Decision{Epoch: c.decided}
		for _, m := range c.cfg.Members { // Members is sorted
			d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: m, Data: got[m]})
		}
		if c.params.Garbage == "epoch" {
			d.Epoch += 7
		}
		out.Decisions = append(out.Decisions, d)
		delete(c.pending, c.decided)
		c.decided++
	}
	return out
}

func encodeToy(e uint64, data []byte) []byte {
	enc := interfaces.NewEncoder(16 + len(data))
	enc.U8(0x7e)
	enc.U64(e)
	enc.VarBytes(data)
	return enc.Bytes()
}

func decodeToy(b []byte) (uint64, []byte, bool) {
	d := interfaces.NewDecoder(b)
	if d.U8() != 0x7e {
		return 0, nil, false
	}
	e := d.U64()
	data := d.VarBytes(1 << 20)
	if d.Finish() != nil {
		return 0, nil, false
	}
	return e, data, true
}

// ---- reputation ----

// Reputation is the toy reputation factory: a star's score is
// ScoreOne/2 plus ScoreOne per block it proposed; selection ranks
// candidates by DomainSum(seed, star) and keeps the k lowest, sorted.
type Reputation struct{}

// Info describes the toy reputation.
func (Reputation) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{
		Kind: interfaces.KindReputation, Name: "toy-reputation", Version: "0.2.0",
		APIVersions:  []int{interfaces.APIVersion},
		Capabilities: []string{interfaces.CapSnapshot},
		Config: []interfaces.ConfigField{
			{Name: "garbage", Type: interfaces.ConfigString, Doc: "misbehave: select, panic"},
		},
	}
}

// NewReputation builds an instance.
func (Reputation) NewReputation(params []byte) (interfaces.Reputation, error) {
	p, err := parseParams(params)
	if err != nil {
		return nil, err
	}
	return &toyReputation{params: p, proposed: map[interfaces.StarID]uint64{}}, nil
}

type toyReputation struct {
	params   Params
	proposed map[interfaces.StarID]uint64
}

func (r *toyReputation) Observe(o interfaces.Observation) error {
	for _, s := range o.Meta.Proposers {
		r.proposed[s]++
	}
	return nil
}

func (r *toyReputation) Score(s interfaces.StarID) interfaces.Score {
	switch r.params.Garbage {
	case "panic":
		panic("toy reputation told to panic")
	case "hang":
		time.Sleep(time.Hour)
	}
	return interfaces.ScoreOne/2 + interfaces.Score(r.proposed[s])*interfaces.ScoreOne
}

func (r *toyReputation) Select(candidates []interfaces.StarID, k int, seed interfaces.Hash) ([]interfaces.StarID, error) {
	type ranked struct {
		s interfaces.StarID
		h interfaces.Hash
	}
	seen := make(map[interfaces.StarID]bool, len(candidates))
	rs := make([]ranked, 0, len(candidates))
	for _, s := range candidates {
		if !seen[s] {
			seen[s] = true
			rs = append(rs, ranked{s, interfaces.DomainSum("toy/select", seed[:], s[:])})
		}
	}
	if k < 0 || k > len(rs) {
		return nil, fmt.Errorf("select %d from %d distinct candidates", k, len(rs))
	}
	sort.Slice(rs, func(i, j int) bool { return bytes.Compare(rs[i].h[:], rs[j].h[:]) < 0 })
	out := make([]interfaces.StarID, 0, k)
	for _, r := range rs[:k] {
		out = append(out, r.s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	if r.params.Garbage == "select" && len(out) > 0 {
		out[0] = interfaces.DevStar("not-a-candidate")
	}
	return out, nil
}

func (r *toyReputation) Snapshot() ([]byte, error) {
	stars := make([]interfaces.StarID, 0, len(r.proposed))
	for s := range r.proposed {
		stars = append(stars, s)
	}
	sort.Slice(stars, func(i, j int) bool { return stars[i].Less(stars[j]) })
	e := interfaces.NewEncoder(8 + 40*len(stars))
	e.U8(1)
	e.Uvarint(uint64(len(stars)))
	for _, s := range stars {
		e.Fixed(s[:])
		e.U64(r.proposed[s])
	}
	return e.Bytes(), nil
}

func (r *toyReputation) Restore(snapshot []byte) error {
	d := interfaces.NewDecoder(snapshot)
	if v := d.U8(); d.Err() == nil && v != 1 {
		return fmt.Errorf("toy reputation snapshot version %d", v)
	}
	n := d.Len(1 << 20)
	m := map[interfaces.StarID]uint64{}
	for i := 0; i < n && d.Err() == nil; i++ {
		var s interfaces.StarID
		d.Fixed(s[:])
		m[s] = d.U64()
	}
	if err := d.Finish(); err != nil {
		return fmt.Errorf("toy reputation restore: %w", err)
	}
	r.proposed = m
	return nil
}

// ---- partitioner ----

// Partitioner is the toy partitioner: a sender's cluster is its first key
// byte modulo the cluster count.
type Partitioner struct{}

// Info describes the toy partitioner.
func (Partitioner) Info() interfaces.PluginInfo {
	return interfaces.PluginInfo{Kind: interfaces.KindPartitioner, Name: "toy-partitioner", Version: "0.1.0", APIVersions: []int{interfaces.APIVersion}}
}

// NewPartitioner builds an instance.
func (Partitioner) NewPartitioner(clusters int, params []byte) (interfaces.Partitioner, error) {
	p, err := parseParams(params)
	if err != nil {
		return nil, err
	}
	if clusters <= 0 {
		return nil, fmt.Errorf("toy partitioner: %d clusters", clusters)
	}
	return &toyPartitioner{n: clusters, params: p}, nil
}

type toyPartitioner struct {
	n       int
	learned int
	params  Params
}

func (p *toyPartitioner) Assign(tx *interfaces.Transaction) interfaces.ClusterID {
	if p.params.Garbage == "cluster" {
		return interfaces.ClusterID(p.n + 5)
	}
	return interfaces.ClusterID(int(tx.Sender[0]) % p.n)
}

func (p *toyPartitioner) Learn(*interfaces.Block) error { p.learned++; return nil }

func (p *toyPartitioner) Clusters() int { return p.n }

// ---- contracts ----

// Contract is the toy contract, served as its own process. Methods: "get"
// returns the state value under the input key ("<missing>" when none) and
// emits a "read" event; "put" writes input "key=value"; "fail" fails the
// call; "panic" panics; "loop" never returns (for the host's bound).
type Contract struct{}

// Describe returns the toy interface.
func (Contract) Describe() interfaces.ContractInterface {
	return interfaces.ContractInterface{Methods: []interfaces.MethodSig{
		{Name: "fail", Input: "bytes", Output: "bytes"},
		{Name: "get", Input: "bytes", Output: "bytes"},
		{Name: "loop", Input: "bytes", Output: "bytes"},
		{Name: "panic", Input: "bytes", Output: "bytes"},
		{Name: "put", Input: "bytes", Output: "bytes"},
	}}
}

// Invoke runs one toy call.
func (Contract) Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	switch req.Method {
	case "get":
		v, _, ok, err := req.State.Get(req.Input)
		if err != nil {
			return interfaces.InvokeResult{}, err
		}
		if !ok {
			return interfaces.InvokeResult{Output: []byte("<missing>")}, nil
		}
		return interfaces.InvokeResult{Output: v, Events: []interfaces.Event{{Topic: "read", Data: req.Input}}}, nil
	case "put":
		k, v, ok := bytes.Cut(req.Input, []byte("="))
		if !ok {
			return interfaces.InvokeResult{}, errors.New("put wants key=value")
		}
		return interfaces.InvokeResult{Writes: []interfaces.KV{{Key: k, Value: v}}}, nil
	case "fail":
		return interfaces.InvokeResult{}, errors.New("the toy contract fails on purpose")
	case "panic":
		panic("the toy contract panics on purpose")
	case "loop":
		for n := 0; ; n++ {
			_ = n
		}
	}
	return interfaces.InvokeResult{}, fmt.Errorf("unknown method %q", req.Method)
}
