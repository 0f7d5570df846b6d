package wire

import (
	"reflect"
	"testing"

	"google.golang.org/protobuf/proto"
	"pgregory.net/rapid"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/pb"
)

func genStar(t *rapid.T, label string) interfaces.StarID {
	var s interfaces.StarID
	copy(s[:], rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(t, label))
	return s
}

func genBytes(t *rapid.T, label string) []byte {
	b := rapid.SliceOfN(rapid.Byte(), 0, 16).Draw(t, label)
	if len(b) == 0 {
		return nil // protobuf does not tell empty from absent
	}
	return b
}

func genFaults(t *rapid.T) []interfaces.Fault {
	n := rapid.IntRange(0, 3).Draw(t, "faults")
	var out []interfaces.Fault
	for i := 0; i < n; i++ {
		out = append(out, interfaces.Fault{
			Star: genStar(t, "fault star"), Kind: interfaces.FaultKind(rapid.IntRange(1, 255).Draw(t, "kind")),
			Epoch: rapid.Uint64().Draw(t, "epoch"), Evidence: genBytes(t, "evidence"),
		})
	}
	return out
}

// Property: a consensus output crosses the wire unchanged.
func TestConsensusOutputRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var o interfaces.Output
		for i, n := 0, rapid.IntRange(0, 4).Draw(t, "messages"); i < n; i++ {
			o.Messages = append(o.Messages, interfaces.OutMessage{To: genStar(t, "to"), Payload: genBytes(t, "payload")})
		}
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "decisions"); i < n; i++ {
			d := interfaces.Decision{Epoch: rapid.Uint64().Draw(t, "epoch")}
			for j, m := 0, rapid.IntRange(0, 3).Draw(t, "contributions"); j < m; j++ {
				d.Contributions = append(d.Contributions, interfaces.ContributionFrom{Proposer: genStar(t, "proposer"), Data: genBytes(t, "data")})
			}
			o.Decisions = append(o.Decisions, d)
		}
		o.Faults = genFaults(t)
		epoch := rapid.Uint64().Draw(t, "next epoch")
		raw, err := proto.Marshal(OutputToPB(o, epoch))
		if err != nil {
			t.Fatal(err)
		}
		var back pb.ConsensusOutput
		if err := proto.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		got, gotEpoch, err := OutputFromPB(&back)
		if err != nil {
			t.Fatal(err)
		}
		if gotEpoch != epoch || !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip changed the output:\n got %+v (epoch %d)\nwant %+v (epoch %d)", got, gotEpoch, o, epoch)
		}
	})
}

// Property: an observation crosses the wire unchanged, its metadata in the
// canonical encoding.
func TestObservationRoundTrips(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		o := interfaces.Observation{
			Cluster: interfaces.ClusterID(rapid.Uint32().Draw(t, "cluster")), Height: rapid.Uint64().Draw(t, "height"),
			Epoch: rapid.Uint64().Draw(t, "epoch"), Timestamp: rapid.Int64().Draw(t, "ts"),
		}
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "proposers"); i < n; i++ {
			o.Meta.Proposers = append(o.Meta.Proposers, genStar(t, "proposer"))
		}
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "members"); i < n; i++ {
			o.Meta.Members = append(o.Meta.Members, genStar(t, "member"))
			o.Meta.LatencyMillis = append(o.Meta.LatencyMillis, rapid.Uint32().Draw(t, "latency"))
		}
		o.Meta.Faults = genFaults(t)
		for i, n := 0, rapid.IntRange(0, 3).Draw(t, "interactions"); i < n; i++ {
			o.Interactions = append(o.Interactions, interfaces.Interaction{From: genStar(t, "from"), To: genStar(t, "to"), Amount: rapid.Uint64().Draw(t, "amount")})
		}
		req := ObservationToPB(9, o)
		got, err := ObservationFromPB(req)
		if err != nil {
			t.Fatal(err)
		}
		// The metadata is compared by its canonical encoding: the canonical
		// decoder returns empty evidence as an empty slice, not nil.
		if string(got.Meta.Encode()) != string(o.Meta.Encode()) {
			t.Fatalf("round trip changed the metadata:\n got %+v\nwant %+v", got.Meta, o.Meta)
		}
		got.Meta, o.Meta = interfaces.BlockMeta{}, interfaces.BlockMeta{}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip changed the observation:\n got %+v\nwant %+v", got, o)
		}
	})
}

func TestPluginInfoRoundTripsAndIsValidated(t *testing.T) {
	in := interfaces.PluginInfo{
		Kind: interfaces.KindReputation, Name: "acme", Version: "1.2.3", APIVersions: []int{1, 2},
		Capabilities: []string{"snapshot"},
		Config:       []interfaces.ConfigField{{Name: "decay", Type: interfaces.ConfigNumber, Required: true, Default: "0.98", Doc: "per block"}},
	}
	got, err := InfoFromPB(InfoToPB(in))
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip = %+v, %v; want %+v", got, err, in)
	}
	bad := InfoToPB(in)
	bad.Kind = "teleporter"
	if _, err := InfoFromPB(bad); err == nil {
		t.Error("an unknown kind was accepted")
	}
	bad = InfoToPB(in)
	bad.ApiVersions = []int64{-1}
	if _, err := InfoFromPB(bad); err == nil {
		t.Error("a negative API version was accepted")
	}
}

func TestShortStarIdsAreRejectedWithTheFieldName(t *testing.T) {
	_, _, err := OutputFromPB(&pb.ConsensusOutput{Messages: []*pb.OutMessage{{To: []byte{1, 2, 3}}}})
	if err == nil || err.Error() != "messages[0].to: star id has 3 bytes, want 32" {
		t.Fatalf("err = %v", err)
	}
}

func TestDeleteAndEmptyValueStayDistinct(t *testing.T) {
	in := interfaces.InvokeResult{Writes: []interfaces.KV{{Key: []byte("a"), Value: nil}, {Key: []byte("b"), Value: []byte{}}}}
	raw, _ := proto.Marshal(InvokeResultToPB(in, ""))
	var back pb.InvokeResponse
	if err := proto.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got, failure, err := InvokeResultFromPB(&back)
	if err != nil || failure != "" {
		t.Fatal(err, failure)
	}
	if got.Writes[0].Value != nil || got.Writes[1].Value == nil || len(got.Writes[1].Value) != 0 {
		t.Fatalf("writes = %#v: a delete and an empty value must stay distinct", got.Writes)
	}
}

func TestContractWritesComeBackSortedWithTheLastWriteOfAKey(t *testing.T) {
	in := &pb.InvokeResponse{Writes: []*pb.KV{{Key: []byte("b"), Value: []byte("1")}, {Key: []byte("a"), Value: []byte("x")}, {Key: []byte("b"), Delete: true}}}
	got, _, err := InvokeResultFromPB(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Writes) != 2 || string(got.Writes[0].Key) != "a" || string(got.Writes[1].Key) != "b" || got.Writes[1].Value != nil {
		t.Fatalf("writes = %#v", got.Writes)
	}
	if _, failure, err := InvokeResultFromPB(&pb.InvokeResponse{Error: "sold out"}); err != nil || failure != "sold out" {
		t.Fatalf("contract failure = %q, %v", failure, err)
	}
}

func TestContractRequestRoundTrips(t *testing.T) {
	req := interfaces.InvokeRequest{Contract: interfaces.DevStar("c"), CodeHash: interfaces.Sum([]byte("x")), Method: "buy", Caller: interfaces.DevStar("a"), Input: []byte("cola"), Amount: 3, Height: 7, Timestamp: 99, Beacon: interfaces.Sum([]byte("b"))}
	got, inv, err := InvokeRequestFromPB(InvokeRequestToPB(req, 5))
	if err != nil || inv != 5 {
		t.Fatal(err, inv)
	}
	if got.Contract != req.Contract || got.CodeHash != req.CodeHash || got.Method != "buy" || got.Amount != 3 || got.Height != 7 || got.Timestamp != 99 || got.Beacon != req.Beacon {
		t.Fatalf("got %+v", got)
	}
	if _, _, err := InvokeRequestFromPB(&pb.InvokeRequest{Contract: []byte{1}}); err == nil {
		t.Fatal("a short contract id was accepted")
	}
}

// FuzzFromPB feeds arbitrary protobuf bytes to every decoder a host or
// plugin applies to the other side's answers: none may panic.
func FuzzFromPB(f *testing.F) {
	seed, _ := proto.Marshal(OutputToPB(interfaces.Output{Messages: []interfaces.OutMessage{{Payload: []byte("x")}}}, 3))
	f.Add(seed)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var o pb.ConsensusOutput
		if proto.Unmarshal(raw, &o) == nil {
			_, _, _ = OutputFromPB(&o)
		}
		var obs pb.ObserveRequest
		if proto.Unmarshal(raw, &obs) == nil {
			_, _ = ObservationFromPB(&obs)
		}
		var inv pb.InvokeResponse
		if proto.Unmarshal(raw, &inv) == nil {
			_, _, _ = InvokeResultFromPB(&inv)
		}
		var req pb.InvokeRequest
		if proto.Unmarshal(raw, &req) == nil {
			_, _, _ = InvokeRequestFromPB(&req)
		}
		var ci pb.ContractInterface
		if proto.Unmarshal(raw, &ci) == nil {
			_, _ = InterfaceFromPB(&ci)
		}
		var info pb.PluginInfo
		if proto.Unmarshal(raw, &info) == nil {
			_, _ = InfoFromPB(&info)
		}
		var cfg pb.ConsensusConfig
		if proto.Unmarshal(raw, &cfg) == nil {
			_, _ = ConsensusConfigFromPB(&cfg)
		}
	})
}
