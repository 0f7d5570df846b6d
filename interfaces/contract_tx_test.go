package interfaces_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func sampleDeploy() interfaces.DeployPayload {
	bundle := []byte("a small contract bundle")
	hosts := []interfaces.StarID{interfaces.DevStar("h1"), interfaces.DevStar("h2"), interfaces.DevStar("h3")}
	for i := 1; i < len(hosts); i++ {
		for j := i; j > 0 && interfaces.CompareStars(hosts[j-1], hosts[j]) > 0; j-- {
			hosts[j-1], hosts[j] = hosts[j], hosts[j-1]
		}
	}
	return interfaces.DeployPayload{
		Runtime:  interfaces.RuntimeGo,
		Name:     "vending-machine",
		CodeHash: interfaces.Sum(bundle),
		Bundle:   bundle,
		Interface: interfaces.ContractInterface{Methods: []interfaces.MethodSig{
			{Name: "buy", Input: "string", Output: "string"},
			{Name: "stock", Input: "string", Output: "u64"},
		}},
		Hosts:     hosts,
		Threshold: 2,
	}
}

func sampleCall(tb testing.TB) interfaces.CallPayload {
	c := interfaces.DevStar("contract")
	p := interfaces.CallPayload{
		Method: "buy", Input: []byte("cola"), Amount: 3, Height: 9,
		Result: interfaces.CallResult{
			Output: []byte("ok"),
			Writes: []interfaces.KV{{Key: interfaces.ContractKey(c, []byte("a")), Value: []byte{}}, {Key: interfaces.ContractKey(c, []byte("b"))}},
			Reads:  []interfaces.ReadVersion{{Key: interfaces.ContractKey(c, []byte("a")), Version: 4}},
			Events: []interfaces.Event{{Topic: "sold", Data: []byte("cola")}},
		},
	}
	for _, h := range []string{"h1", "h2"} {
		en, err := interfaces.Endorse(interfaces.DevKey(h), p.Call(&interfaces.Transaction{Sender: interfaces.DevStar("caller"), Seq: 2, Counterparty: c}), p.Result)
		if err != nil {
			tb.Fatal(err)
		}
		p.Endorsements = append(p.Endorsements, en)
	}
	p.Endorsements = interfaces.SortEndorsements(p.Endorsements)
	return p
}

func TestDeployPayloadRoundTripsAndRefusesNonsense(t *testing.T) {
	p := sampleDeploy()
	got, err := interfaces.DecodeDeployPayload(p.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Encode(), p.Encode()) {
		t.Fatal("re-encoding differs")
	}
	bad := map[string]func(*interfaces.DeployPayload){
		"threshold above hosts": func(p *interfaces.DeployPayload) { p.Threshold = 4 },
		"zero threshold":        func(p *interfaces.DeployPayload) { p.Threshold = 0 },
		"bundle mismatch":       func(p *interfaces.DeployPayload) { p.Bundle = []byte("tampered") },
		"unsorted hosts":        func(p *interfaces.DeployPayload) { p.Hosts[0], p.Hosts[1] = p.Hosts[1], p.Hosts[0] },
		"unknown runtime":       func(p *interfaces.DeployPayload) { p.Runtime = 9 },
		"no methods":            func(p *interfaces.DeployPayload) { p.Interface.Methods = nil },
	}
	for name, mut := range bad {
		q := sampleDeploy()
		mut(&q)
		if _, err := interfaces.DecodeDeployPayload(q.Encode()); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestEndorsementCoversTheResultNotOnlyTheCall(t *testing.T) {
	p := sampleCall(t)
	tx := &interfaces.Transaction{Sender: interfaces.DevStar("caller"), Seq: 2, Counterparty: interfaces.DevStar("contract")}
	if !p.Endorsements[0].Verify(p.Call(tx), p.Result) {
		t.Fatal("endorsement does not verify")
	}
	r := p.Result
	r.Output = []byte("other")
	if p.Endorsements[0].Verify(p.Call(tx), r) {
		t.Fatal("endorsement verifies a different output")
	}
	r = p.Result
	r.Reads = []interfaces.ReadVersion{{Key: r.Reads[0].Key, Version: 5}}
	if p.Endorsements[0].Verify(p.Call(tx), r) {
		t.Fatal("endorsement verifies a different read version")
	}
	tx2 := *tx
	tx2.Seq = 3
	if p.Endorsements[0].Verify(p.Call(&tx2), p.Result) {
		t.Fatal("endorsement verifies for another transaction of the caller")
	}
}

func TestContractInterfaceDiffNamesTheMethod(t *testing.T) {
	want := sampleDeploy().Interface
	got := want.Normalize()
	got.Methods[0].Output = "u64"
	if d := got.Diff(want); !strings.Contains(d, "buy") {
		t.Fatalf("diff %q does not name buy", d)
	}
	if d := want.Diff(want); d != "" {
		t.Fatalf("diff of equal interfaces: %q", d)
	}
}

func FuzzDecodeDeployPayload(f *testing.F) {
	f.Add(sampleDeploy().Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := interfaces.DecodeDeployPayload(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), raw) {
			t.Fatalf("accepted %x re-encodes to %x", raw, p.Encode())
		}
	})
}

func FuzzDecodeCallPayload(f *testing.F) {
	f.Add(sampleCall(f).Encode())
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := interfaces.DecodeCallPayload(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), raw) {
			t.Fatalf("accepted %x re-encodes to %x", raw, p.Encode())
		}
	})
}

func FuzzDecodeCallResult(f *testing.F) {
	f.Add(sampleCall(f).Result.Encode())
	f.Add([]byte{1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := interfaces.DecodeCallResult(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), raw) {
			t.Fatalf("accepted %x re-encodes to %x", raw, r.Encode())
		}
	})
}

func FuzzDecodeCompositePayloads(f *testing.F) {
	legs := []interfaces.CompositeLeg{{Contract: interfaces.DevStar("a"), Method: "stock"}, {Contract: interfaces.DevStar("b"), Method: "mint"}}
	f.Add(interfaces.CompositePayload{Name: "escrow", Legs: legs}.Encode())
	call := sampleCall(f)
	f.Add(interfaces.CompositeCallPayload{Input: []byte("cola"), Height: 3, Legs: []interfaces.CompositeLegResult{
		{Amount: 1, Result: call.Result, Endorsements: call.Endorsements}, {Result: call.Result}}}.Encode())
	f.Fuzz(func(t *testing.T, raw []byte) {
		if p, err := interfaces.DecodeCompositePayload(raw); err == nil && !bytes.Equal(p.Encode(), raw) {
			t.Fatalf("composite %x re-encodes to %x", raw, p.Encode())
		}
		if p, err := interfaces.DecodeCompositeCallPayload(raw); err == nil && !bytes.Equal(p.Encode(), raw) {
			t.Fatalf("composite call %x re-encodes to %x", raw, p.Encode())
		}
	})
}
