package api

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// contractBackend is a backend that hosts one contract and co-signs with
// a dev key.
type contractBackend struct {
	*fullBackend
	contract interfaces.StarID
}

func (b *contractBackend) HostedContracts() ([]string, error) {
	return []string{b.contract.String()}, nil
}

func (b *contractBackend) Contract(c interfaces.StarID) (ContractInfo, error) {
	if c != b.contract {
		return ContractInfo{}, fmt.Errorf("%w: no contract %s", ErrNotFound, c.Short())
	}
	return ContractInfo{Contract: c.String(), Threshold: 1}, nil
}

func (b *contractBackend) ContractState(c interfaces.StarID, key []byte) (ContractValue, error) {
	return ContractValue{Contract: c.String(), Key: string(key), Found: true, Text: "7", Value: hex.EncodeToString([]byte("7")), Version: 3}, nil
}

func (b *contractBackend) Endorse(_ context.Context, call interfaces.Call) (Endorsed, error) {
	switch call.Method {
	case "fail":
		return Endorsed{}, fmt.Errorf("%w: sold out", ErrCallRefused)
	case "late":
		return Endorsed{}, fmt.Errorf("%w: height not reached", ErrStateMoved)
	}
	res := interfaces.CallResult{Output: append([]byte("echo "), call.Input...)}
	en, err := interfaces.Endorse(interfaces.DevKey("host"), call, res)
	if err != nil {
		return Endorsed{}, err
	}
	return EndorsedOf(res, en), nil
}

func TestContractEndpointsEndorseAndReadState(t *testing.T) {
	c0 := interfaces.DevStar("vending")
	c, _ := serveFull(t, &contractBackend{fullBackend: newFullBackend(), contract: c0}, Options{})
	ctx := context.Background()
	call := interfaces.Call{Contract: c0, Caller: interfaces.DevStar("bob"), Seq: 1, Method: "buy", Input: []byte("cola"), Height: 4}
	out, err := c.Endorse(ctx, call)
	if err != nil {
		t.Fatal(err)
	}
	res, en, err := out.EndorsementOf()
	if err != nil || string(res.Output) != "echo cola" || !en.Verify(call, res) {
		t.Fatalf("endorsed %+v: %v", out, err)
	}
	v, err := c.ContractState(ctx, c0, "stock/cola")
	if err != nil || v.Text != "7" || v.Key != "stock/cola" {
		t.Fatalf("state %+v, %v", v, err)
	}
	if _, err := c.Contract(ctx, interfaces.DevStar("other")); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("unknown contract: %v", err)
	}
	for m, code := range map[string]int{"fail": 422, "late": 409} {
		call.Method = m
		if _, err := c.Endorse(ctx, call); err == nil || !strings.Contains(err.Error(), fmt.Sprint(code)) {
			t.Errorf("%s: %v, want %d", m, err, code)
		}
	}
	for _, body := range []string{`{"caller":"x","seq":1,"method":"m","input":""}`, `{"caller":"` + c0.String() + `","seq":0,"method":"m"}`, `{"nope":1}`} {
		code, eb, _ := request(t, c, "POST", "/v1/contracts/"+c0.String()+"/endorse", body, nil)
		if code != 400 || eb.Field == "" {
			t.Errorf("%s: %d %+v", body, code, eb)
		}
	}
}

// FuzzEndorseWire feeds arbitrary JSON to the endorse request and answer
// decoders: none may panic.
func FuzzEndorseWire(f *testing.F) {
	req, _ := json.Marshal(EndorseRequest{Caller: interfaces.DevStar("a").String(), Seq: 1, Method: "buy", Input: "636f6c61", Height: 2})
	f.Add(req)
	f.Add([]byte(`{"host":"ed25519:00","signature":"zz","result":"01"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r EndorseRequest
		if decodeStrict(raw, "an endorse request", &r) == nil {
			_, _ = r.CallOf(interfaces.DevStar("c"))
		}
		var e Endorsed
		if json.Unmarshal(raw, &e) == nil {
			_, _, _ = e.EndorsementOf()
		}
	})
}
