package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/builtin/contracts"
	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins/host"
)

// chain is a stand-in for the ledger: full keys with versions, one block
// per applied result.
type chain struct {
	height uint64
	kv     map[string]struct {
		v   []byte
		ver uint64
	}
}

func (c *chain) Block(h uint64) (interfaces.Hash, int64, error) {
	if h > c.height {
		return interfaces.Hash{}, 0, fmt.Errorf("height %d not reached", h)
	}
	return interfaces.Sum([]byte(fmt.Sprint(h))), int64(h) * 1000, nil
}

func (c *chain) Value(h uint64, key []byte) ([]byte, uint64, bool, error) {
	e, ok := c.kv[string(key)]
	if e.ver > h {
		return nil, 0, false, errors.New("state moved on")
	}
	return e.v, e.ver, ok && e.v != nil, nil
}

func (c *chain) apply(r interfaces.CallResult) {
	c.height++
	for _, w := range r.Writes {
		c.kv[string(w.Key)] = struct {
			v   []byte
			ver uint64
		}{w.Value, c.height}
	}
}

func buildMachine(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "vending-machine")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build the contract: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deployment(bin []byte) interfaces.Deployment {
	return interfaces.Deployment{
		Contract: interfaces.ContractStar(interfaces.DevStar("deployer"), 1),
		Deploy: interfaces.DeployPayload{
			Runtime: interfaces.RuntimeGo, Name: "vending-machine", CodeHash: interfaces.Sum(bin),
			Interface: Machine().Describe(), Hosts: []interfaces.StarID{interfaces.DevStar("host")}, Threshold: 1,
		},
		Bundle: bin,
	}
}

func TestVendingMachineSellsForExactlyItsPriceAndNotWhenSoldOut(t *testing.T) {
	bin := buildMachine(t)
	rt, err := contracts.New(contracts.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d := deployment(bin)
	ctx := context.Background()
	if err := rt.Deploy(ctx, d); err != nil {
		t.Fatal(err)
	}
	ch := &chain{kv: map[string]struct {
		v   []byte
		ver uint64
	}{}}
	owner, buyer := interfaces.DevStar("owner"), interfaces.DevStar("buyer")
	call := func(caller interfaces.StarID, method string, input string, amount uint64) (interfaces.CallResult, error) {
		res, err := rt.Execute(ctx, ch, interfaces.Call{Contract: d.Contract, Caller: caller, Seq: 1, Method: method, Input: []byte(input), Amount: amount, Height: ch.height})
		if err == nil {
			ch.apply(res)
		}
		return res, err
	}
	in, _ := json.Marshal(Restock{Item: "cola", Price: 3, Add: 1})
	if res, err := call(owner, "restock", string(in), 0); err != nil || string(res.Output) != "1" {
		t.Fatalf("restock = %q, %v", res.Output, err)
	}
	if _, err := call(buyer, "restock", string(in), 0); err == nil || !strings.Contains(err.Error(), "only the owner") {
		t.Fatalf("a stranger restocked: %v", err)
	}
	if _, err := call(buyer, "buy", "cola", 2); !errors.Is(err, host.ErrContractFailed) || !strings.Contains(err.Error(), "costs 3") {
		t.Fatalf("underpaid buy: %v", err)
	}
	res, err := call(buyer, "buy", "cola", 3)
	if err != nil || string(res.Output) != "cola" {
		t.Fatalf("buy = %q, %v", res.Output, err)
	}
	if len(res.Reads) == 0 || len(res.Writes) != 2 || len(res.Events) != 1 {
		t.Fatalf("buy result = %+v", res)
	}
	for _, w := range res.Writes {
		if !strings.HasPrefix(string(w.Key), string(interfaces.ContractNamespace(d.Contract))) {
			t.Fatalf("write %q outside the namespace", w.Key)
		}
	}
	if _, err := call(buyer, "buy", "cola", 3); err == nil || !strings.Contains(err.Error(), "sold out") {
		t.Fatalf("buy when sold out: %v", err)
	}
	if res, err := call(buyer, "stock", "cola", 0); err != nil || string(res.Output) != "0" {
		t.Fatalf("stock = %q, %v", res.Output, err)
	}
}

func TestVendingMachineTamperedBinaryIsRefused(t *testing.T) {
	bin := buildMachine(t)
	rt, err := contracts.New(contracts.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d := deployment(bin)
	tampered := append([]byte(nil), bin...)
	tampered[len(tampered)/2] ^= 0xff
	d.Bundle = tampered
	err = rt.Deploy(context.Background(), d)
	if !errors.Is(err, contracts.ErrBundleMismatch) {
		t.Fatalf("err = %v, want ErrBundleMismatch", err)
	}
	if rt.Running(d.Contract) {
		t.Fatal("a tampered contract runs")
	}
}

func TestVendingMachineWithAnotherInterfaceIsRefused(t *testing.T) {
	bin := buildMachine(t)
	rt, err := contracts.New(contracts.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	d := deployment(bin)
	d.Deploy.Interface.Methods[0].Output = "u64" // buy returns a string
	err = rt.Deploy(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "differs from the notarized one") {
		t.Fatalf("err = %v", err)
	}
}
