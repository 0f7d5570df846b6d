// Package wire converts between the interfaces types and the protobuf
// messages of the plugin RPC. It is shared by the plugin side (package
// plugins) and the host side (package plugins/host).
//
// Every From* function treats its input as untrusted: it checks lengths and
// ranges and returns an error naming the field, never panicking. Hashed
// values (transactions, blocks, block metadata) are carried in their
// canonical encodings and decoded with the canonical decoders.
package wire

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/pb"
)

// MaxListLen bounds any repeated field a peer sends (members, candidates,
// messages, decisions, writes...). gRPC's own message size limit bounds the
// total; this keeps per-item work bounded before anything is allocated.
const MaxListLen = 1 << 20

// Star converts a 32-byte StarID.
func Star(b []byte, field string) (interfaces.StarID, error) {
	var s interfaces.StarID
	if len(b) != len(s) {
		return s, fmt.Errorf("%s: star id has %d bytes, want %d", field, len(b), len(s))
	}
	copy(s[:], b)
	return s, nil
}

// Stars converts a list of StarIDs.
func Stars(bs [][]byte, field string) ([]interfaces.StarID, error) {
	if len(bs) > MaxListLen {
		return nil, fmt.Errorf("%s: %d entries exceed the limit %d", field, len(bs), MaxListLen)
	}
	out := make([]interfaces.StarID, len(bs))
	for i, b := range bs {
		s, err := Star(b, fmt.Sprintf("%s[%d]", field, i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// StarBytes converts StarIDs to their bytes.
func StarBytes(ss []interfaces.StarID) [][]byte {
	out := make([][]byte, len(ss))
	for i := range ss {
		out[i] = append([]byte(nil), ss[i][:]...)
	}
	return out
}

// Hash converts a 32-byte hash.
func Hash(b []byte, field string) (interfaces.Hash, error) {
	var h interfaces.Hash
	if len(b) != len(h) {
		return h, fmt.Errorf("%s: hash has %d bytes, want %d", field, len(b), len(h))
	}
	copy(h[:], b)
	return h, nil
}

// Int converts an int64 from the wire into an int, refusing negative values
// and values above limit.
func Int(v int64, limit int, field string) (int, error) {
	if v < 0 || v > int64(limit) {
		return 0, fmt.Errorf("%s: %d is out of range [0, %d]", field, v, limit)
	}
	return int(v), nil
}

// InfoToPB converts a plugin description.
func InfoToPB(in interfaces.PluginInfo) *pb.PluginInfo {
	out := &pb.PluginInfo{
		Kind:         string(in.Kind),
		Name:         in.Name,
		Version:      in.Version,
		Capabilities: append([]string(nil), in.Capabilities...),
	}
	for _, v := range in.APIVersions {
		out.ApiVersions = append(out.ApiVersions, int64(v))
	}
	for _, f := range in.Config {
		out.Config = append(out.Config, &pb.ConfigField{
			Name: f.Name, Type: string(f.Type), Required: f.Required, Default: f.Default, Doc: f.Doc,
		})
	}
	return out
}

// InfoFromPB converts and validates a plugin description.
func InfoFromPB(in *pb.PluginInfo) (interfaces.PluginInfo, error) {
	if in == nil {
		return interfaces.PluginInfo{}, fmt.Errorf("plugin info: empty answer")
	}
	out := interfaces.PluginInfo{
		Kind:         interfaces.Kind(in.GetKind()),
		Name:         in.GetName(),
		Version:      in.GetVersion(),
		Capabilities: append([]string(nil), in.GetCapabilities()...),
	}
	for _, v := range in.GetApiVersions() {
		if v <= 0 || v > math.MaxInt32 {
			return interfaces.PluginInfo{}, fmt.Errorf("plugin info: API version %d is out of range", v)
		}
		out.APIVersions = append(out.APIVersions, int(v))
	}
	for _, f := range in.GetConfig() {
		out.Config = append(out.Config, interfaces.ConfigField{
			Name: f.GetName(), Type: interfaces.ConfigType(f.GetType()), Required: f.GetRequired(),
			Default: f.GetDefault(), Doc: f.GetDoc(),
		})
	}
	if err := out.Validate(); err != nil {
		return interfaces.PluginInfo{}, fmt.Errorf("plugin info: %w", err)
	}
	return out, nil
}

// FaultsToPB converts provable faults.
func FaultsToPB(fs []interfaces.Fault) []*pb.Fault {
	if len(fs) == 0 {
		return nil
	}
	out := make([]*pb.Fault, len(fs))
	for i, f := range fs {
		out[i] = &pb.Fault{Star: append([]byte(nil), f.Star[:]...), Kind: uint32(f.Kind), Epoch: f.Epoch, Evidence: f.Evidence}
	}
	return out
}

// FaultsFromPB converts and checks provable faults.
func FaultsFromPB(fs []*pb.Fault) ([]interfaces.Fault, error) {
	if len(fs) > MaxListLen {
		return nil, fmt.Errorf("faults: %d entries exceed the limit %d", len(fs), MaxListLen)
	}
	var out []interfaces.Fault
	for i, f := range fs {
		s, err := Star(f.GetStar(), fmt.Sprintf("faults[%d].star", i))
		if err != nil {
			return nil, err
		}
		if f.GetKind() == 0 || f.GetKind() > math.MaxUint8 {
			return nil, fmt.Errorf("faults[%d].kind: %d is out of range [1, 255]", i, f.GetKind())
		}
		if len(f.GetEvidence()) > interfaces.MaxFieldLen {
			return nil, fmt.Errorf("faults[%d].evidence: %d bytes exceed the limit %d", i, len(f.GetEvidence()), interfaces.MaxFieldLen)
		}
		out = append(out, interfaces.Fault{Star: s, Kind: interfaces.FaultKind(f.GetKind()), Epoch: f.GetEpoch(), Evidence: f.GetEvidence()})
	}
	return out, nil
}

// ConsensusConfigToPB converts a consensus configuration.
func ConsensusConfigToPB(c interfaces.ConsensusConfig) *pb.ConsensusConfig {
	return &pb.ConsensusConfig{
		Self:      append([]byte(nil), c.Self[:]...),
		Members:   StarBytes(c.Members),
		Faulty:    int64(c.Faulty),
		Epoch:     c.Epoch,
		Keys:      c.Keys,
		Seed:      append([]byte(nil), c.Seed[:]...),
		BatchSize: int64(c.BatchSize),
		Params:    c.Params,
		LastEpoch: c.LastEpoch,
	}
}

// ConsensusConfigFromPB converts and checks a consensus configuration.
func ConsensusConfigFromPB(c *pb.ConsensusConfig) (interfaces.ConsensusConfig, error) {
	var out interfaces.ConsensusConfig
	var err error
	if out.Self, err = Star(c.GetSelf(), "config.self"); err != nil {
		return out, err
	}
	if out.Members, err = Stars(c.GetMembers(), "config.members"); err != nil {
		return out, err
	}
	if out.Faulty, err = Int(c.GetFaulty(), MaxListLen, "config.faulty"); err != nil {
		return out, err
	}
	if out.BatchSize, err = Int(c.GetBatchSize(), math.MaxInt32, "config.batch_size"); err != nil {
		return out, err
	}
	if out.Seed, err = Hash(c.GetSeed(), "config.seed"); err != nil {
		return out, err
	}
	out.Epoch = c.GetEpoch()
	out.LastEpoch = c.GetLastEpoch()
	if out.LastEpoch != 0 && out.LastEpoch < out.Epoch {
		return out, fmt.Errorf("config.last_epoch %d is before config.epoch %d", out.LastEpoch, out.Epoch)
	}
	out.Keys = c.GetKeys()
	out.Params = c.GetParams()
	return out, nil
}

// OutputToPB converts one consensus call's output and the instance's epoch
// after it.
func OutputToPB(o interfaces.Output, epoch uint64) *pb.ConsensusOutput {
	out := &pb.ConsensusOutput{Epoch: epoch, Faults: FaultsToPB(o.Faults)}
	if len(o.Messages) > 0 {
		out.Messages = make([]*pb.OutMessage, len(o.Messages))
		for i, m := range o.Messages {
			out.Messages[i] = &pb.OutMessage{To: append([]byte(nil), m.To[:]...), Epoch: m.Epoch, Payload: m.Payload}
		}
	}
	for _, d := range o.Decisions {
		pd := &pb.Decision{Epoch: d.Epoch, Contributions: make([]*pb.ContributionFrom, len(d.Contributions))}
		for i, c := range d.Contributions {
			pd.Contributions[i] = &pb.ContributionFrom{Proposer: append([]byte(nil), c.Proposer[:]...), Data: c.Data}
		}
		out.Decisions = append(out.Decisions, pd)
	}
	return out
}

// OutputFromPB converts one consensus call's output. It checks shapes
// (lengths, list bounds); protocol-level checks (recipients are members,
// decisions in epoch order) are the caller's, which knows the instance.
func OutputFromPB(o *pb.ConsensusOutput) (interfaces.Output, uint64, error) {
	var out interfaces.Output
	if o == nil {
		return out, 0, fmt.Errorf("consensus output: empty answer")
	}
	if len(o.GetMessages()) > MaxListLen || len(o.GetDecisions()) > MaxListLen {
		return out, 0, fmt.Errorf("consensus output: %d messages and %d decisions exceed the limit %d", len(o.GetMessages()), len(o.GetDecisions()), MaxListLen)
	}
	for i, m := range o.GetMessages() {
		to, err := Star(m.GetTo(), fmt.Sprintf("messages[%d].to", i))
		if err != nil {
			return out, 0, err
		}
		out.Messages = append(out.Messages, interfaces.OutMessage{To: to, Epoch: m.GetEpoch(), Payload: m.GetPayload()})
	}
	for i, d := range o.GetDecisions() {
		if len(d.GetContributions()) > MaxListLen {
			return out, 0, fmt.Errorf("decisions[%d]: %d contributions exceed the limit %d", i, len(d.GetContributions()), MaxListLen)
		}
		dec := interfaces.Decision{Epoch: d.GetEpoch()}
		for j, c := range d.GetContributions() {
			p, err := Star(c.GetProposer(), fmt.Sprintf("decisions[%d].contributions[%d].proposer", i, j))
			if err != nil {
				return out, 0, err
			}
			dec.Contributions = append(dec.Contributions, interfaces.ContributionFrom{Proposer: p, Data: c.GetData()})
		}
		out.Decisions = append(out.Decisions, dec)
	}
	fs, err := FaultsFromPB(o.GetFaults())
	if err != nil {
		return out, 0, err
	}
	out.Faults = fs
	return out, o.GetEpoch(), nil
}

// ObservationToPB converts what reputation learns from one block. The block
// metadata travels in its canonical encoding.
func ObservationToPB(instance uint64, o interfaces.Observation) *pb.ObserveRequest {
	req := &pb.ObserveRequest{
		Instance:  instance,
		Cluster:   uint32(o.Cluster),
		Height:    o.Height,
		Epoch:     o.Epoch,
		Timestamp: o.Timestamp,
		Meta:      o.Meta.Encode(),
	}
	for _, it := range o.Interactions {
		req.Interactions = append(req.Interactions, &pb.Interaction{
			From: append([]byte(nil), it.From[:]...), To: append([]byte(nil), it.To[:]...), Amount: it.Amount,
		})
	}
	return req
}

// ObservationFromPB converts and checks an observation.
func ObservationFromPB(req *pb.ObserveRequest) (interfaces.Observation, error) {
	o := interfaces.Observation{
		Cluster:   interfaces.ClusterID(req.GetCluster()),
		Height:    req.GetHeight(),
		Epoch:     req.GetEpoch(),
		Timestamp: req.GetTimestamp(),
	}
	meta, err := interfaces.DecodeBlockMeta(req.GetMeta())
	if err != nil {
		return o, fmt.Errorf("observation meta: %w", err)
	}
	o.Meta = meta
	if len(req.GetInteractions()) > MaxListLen {
		return o, fmt.Errorf("observation: %d interactions exceed the limit %d", len(req.GetInteractions()), MaxListLen)
	}
	for i, it := range req.GetInteractions() {
		from, err := Star(it.GetFrom(), fmt.Sprintf("interactions[%d].from", i))
		if err != nil {
			return o, err
		}
		to, err := Star(it.GetTo(), fmt.Sprintf("interactions[%d].to", i))
		if err != nil {
			return o, err
		}
		o.Interactions = append(o.Interactions, interfaces.Interaction{From: from, To: to, Amount: it.GetAmount()})
	}
	return o, nil
}

// InterfaceToPB converts a contract's typed interface.
func InterfaceToPB(c interfaces.ContractInterface) *pb.ContractInterface {
	out := &pb.ContractInterface{}
	for _, m := range c.Methods {
		out.Methods = append(out.Methods, &pb.MethodSig{Name: m.Name, InputType: m.Input, OutputType: m.Output})
	}
	return out
}

// InterfaceFromPB converts and checks what a contract says it implements;
// the methods come back sorted by name.
func InterfaceFromPB(c *pb.ContractInterface) (interfaces.ContractInterface, error) {
	var out interfaces.ContractInterface
	if len(c.GetMethods()) > interfaces.MaxContractMethods {
		return out, fmt.Errorf("contract interface: %d methods, limit %d", len(c.GetMethods()), interfaces.MaxContractMethods)
	}
	for _, m := range c.GetMethods() {
		out.Methods = append(out.Methods, interfaces.MethodSig{Name: m.GetName(), Input: m.GetInputType(), Output: m.GetOutputType()})
	}
	out = out.Normalize()
	if err := out.Check(); err != nil {
		return out, fmt.Errorf("contract interface: %w", err)
	}
	return out, nil
}

// InvokeRequestToPB converts a call for the contract process; invocation
// names it in the contract's state reads. State is not carried.
func InvokeRequestToPB(r interfaces.InvokeRequest, invocation uint64) *pb.InvokeRequest {
	return &pb.InvokeRequest{
		Invocation: invocation,
		Contract:   append([]byte(nil), r.Contract[:]...),
		CodeHash:   append([]byte(nil), r.CodeHash[:]...),
		Method:     r.Method,
		Caller:     append([]byte(nil), r.Caller[:]...),
		Input:      r.Input,
		Amount:     r.Amount,
		Height:     r.Height,
		Timestamp:  r.Timestamp,
		Beacon:     append([]byte(nil), r.Beacon[:]...),
	}
}

// InvokeRequestFromPB converts and checks a call the host sent. The
// namespace is not carried: the contract's keys are its own.
func InvokeRequestFromPB(r *pb.InvokeRequest) (interfaces.InvokeRequest, uint64, error) {
	var out interfaces.InvokeRequest
	if r == nil {
		return out, 0, fmt.Errorf("invoke request: empty")
	}
	var err error
	if out.Contract, err = Star(r.GetContract(), "contract"); err != nil {
		return out, 0, err
	}
	if out.CodeHash, err = Hash(r.GetCodeHash(), "code_hash"); err != nil {
		return out, 0, err
	}
	if out.Caller, err = Star(r.GetCaller(), "caller"); err != nil {
		return out, 0, err
	}
	if out.Beacon, err = Hash(r.GetBeacon(), "beacon"); err != nil {
		return out, 0, err
	}
	if r.GetMethod() == "" || len(r.GetMethod()) > interfaces.MaxContractName {
		return out, 0, fmt.Errorf("method: %d bytes, want 1 to %d", len(r.GetMethod()), interfaces.MaxContractName)
	}
	if len(r.GetInput()) > interfaces.MaxContractIO {
		return out, 0, fmt.Errorf("input: %d bytes, limit %d", len(r.GetInput()), interfaces.MaxContractIO)
	}
	out.Method = r.GetMethod()
	out.Input = r.GetInput()
	out.Amount = r.GetAmount()
	out.Height = r.GetHeight()
	out.Timestamp = r.GetTimestamp()
	return out, r.GetInvocation(), nil
}

// InvokeResultToPB converts a contract's answer; failure, when not empty,
// is a contract-level failure and the result is then ignored.
func InvokeResultToPB(r interfaces.InvokeResult, failure string) *pb.InvokeResponse {
	out := &pb.InvokeResponse{Output: r.Output, Error: failure}
	for _, kv := range r.Writes {
		out.Writes = append(out.Writes, &pb.KV{Key: kv.Key, Value: kv.Value, Delete: kv.Value == nil})
	}
	for _, ev := range r.Events {
		out.Events = append(out.Events, &pb.Event{Topic: ev.Topic, Data: ev.Data})
	}
	return out
}

// InvokeResultFromPB converts and checks a contract's answer: bounds, and
// writes sorted by key with each key once (the last write of a key wins).
// It returns the contract-level failure, if the contract reported one.
// Reads are not part of the answer: the host records them.
func InvokeResultFromPB(r *pb.InvokeResponse) (interfaces.InvokeResult, string, error) {
	var out interfaces.InvokeResult
	if r == nil {
		return out, "", fmt.Errorf("invoke result: empty answer")
	}
	if msg := r.GetError(); msg != "" {
		if len(msg) > 4096 {
			msg = msg[:4096] + "…"
		}
		return out, msg, nil
	}
	if len(r.GetWrites()) > interfaces.MaxContractWrites || len(r.GetEvents()) > interfaces.MaxContractEvents {
		return out, "", fmt.Errorf("invoke result: %d writes and %d events exceed the limits %d and %d", len(r.GetWrites()), len(r.GetEvents()), interfaces.MaxContractWrites, interfaces.MaxContractEvents)
	}
	if len(r.GetOutput()) > interfaces.MaxContractIO {
		return out, "", fmt.Errorf("invoke result: output of %d bytes, limit %d", len(r.GetOutput()), interfaces.MaxContractIO)
	}
	out.Output = r.GetOutput()
	last := map[string]int{}
	for i, kv := range r.GetWrites() {
		if len(kv.GetKey()) == 0 || len(kv.GetKey()) > interfaces.MaxContractKey-len(interfaces.ContractNamespace(interfaces.StarID{})) {
			return out, "", fmt.Errorf("invoke result: writes[%d] has a key of %d bytes", i, len(kv.GetKey()))
		}
		if len(kv.GetValue()) > interfaces.MaxContractValue {
			return out, "", fmt.Errorf("invoke result: writes[%d] has a value of %d bytes, limit %d", i, len(kv.GetValue()), interfaces.MaxContractValue)
		}
		w := interfaces.KV{Key: kv.GetKey()}
		if !kv.GetDelete() {
			w.Value = kv.GetValue()
			if w.Value == nil {
				w.Value = []byte{}
			}
		} else if len(kv.GetValue()) != 0 {
			return out, "", fmt.Errorf("invoke result: writes[%d] deletes its key but carries a value", i)
		}
		if j, ok := last[string(w.Key)]; ok {
			out.Writes[j] = w
			continue
		}
		last[string(w.Key)] = len(out.Writes)
		out.Writes = append(out.Writes, w)
	}
	slices.SortFunc(out.Writes, func(a, b interfaces.KV) int { return bytes.Compare(a.Key, b.Key) })
	for i, ev := range r.GetEvents() {
		if len(ev.GetTopic()) > interfaces.MaxTopicLen || len(ev.GetData()) > interfaces.MaxContractIO {
			return out, "", fmt.Errorf("invoke result: events[%d]: topic of %d bytes (limit %d) or data of %d bytes (limit %d)", i, len(ev.GetTopic()), interfaces.MaxTopicLen, len(ev.GetData()), interfaces.MaxContractIO)
		}
		out.Events = append(out.Events, interfaces.Event{Topic: ev.GetTopic(), Data: ev.GetData()})
	}
	return out, "", nil
}
