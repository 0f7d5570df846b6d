package conformance

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/constellation-chain/constellation/interfaces"
)

// Contract is what the contract suite drives: a contract process through
// the node's host (plugins/host.Contract satisfies it), or a contract in
// process behind an adapter. Invoke's error is the contract's failure.
type Contract interface {
	Describe(ctx context.Context) (interfaces.ContractInterface, error)
	Invoke(ctx context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error)
}

// RunContract runs the contract suite against c as Go subtests of t.
func RunContract(t TB, c Contract) { ContractSuite(t, c) }

// ContractSuite runs every contract case under t. The suite knows nothing
// of a contract's methods beyond its interface, so it checks what every
// contract owes its hosts whatever its inputs:
//
//   - describes-a-valid-interface: Describe answers an interface with at
//     least one method, names unique and within bounds;
//   - unknown-method-fails-cleanly: a call of a method the interface does
//     not name is a failure of the call, and the contract still answers;
//   - determinism-same-call-same-answer: each method called twice with the
//     same request against the same state gives the same result byte for
//     byte (or fails with the same message), also from a second state
//     that differs in keys it may read;
//   - odd-inputs-fail-cleanly: empty, binary and large inputs to every
//     method are answered (a result or a failure) within 10 s each, and
//     the contract still answers afterwards.
func ContractSuite(t TB, c Contract) {
	t.Helper()
	var iface interfaces.ContractInterface
	t.Run("describes-a-valid-interface", func(t TB) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		got, err := c.Describe(ctx)
		if err != nil {
			t.Fatalf("Describe: %v", err)
		}
		if err := got.Normalize().Check(); err != nil {
			t.Fatalf("the interface is not usable: %v", err)
		}
		iface = got.Normalize()
	})
	if len(iface.Methods) == 0 {
		return
	}
	t.Run("unknown-method-fails-cleanly", func(t TB) {
		if _, err := contractCall(c, "conformance-no-such-method", nil, contractState{}); err == nil {
			t.Errorf("a call of a method the interface does not name succeeded")
		}
		contractAlive(t, c)
	})
	t.Run("determinism-same-call-same-answer", func(t TB) {
		states := []contractState{{}, {"a": []byte("1"), "b": []byte("{}"), "owner": []byte("x")}}
		for _, m := range iface.Methods {
			for i, st := range states {
				for _, in := range [][]byte{nil, []byte("1"), []byte(`{}`)} {
					first := contractAnswer(contractCall(c, m.Name, in, st))
					second := contractAnswer(contractCall(c, m.Name, in, st))
					if first != second {
						t.Errorf("%s(%q) against state %d answered differently twice:\n  %s\n  %s", m.Name, in, i, first, second)
					}
				}
			}
		}
	})
	t.Run("odd-inputs-fail-cleanly", func(t TB) {
		for _, m := range iface.Methods {
			for _, in := range [][]byte{{}, {0xff, 0x00, 0xfe}, bytes.Repeat([]byte("9"), interfaces.MaxContractIO)} {
				contractCall(c, m.Name, in, contractState{})
			}
		}
		contractAlive(t, c)
	})
}

// contractState is a fixed state: keys with version 1.
type contractState map[string][]byte

func (s contractState) Get(k []byte) ([]byte, uint64, bool, error) {
	v, ok := s[string(k)]
	if !ok {
		return nil, 0, false, nil
	}
	return v, 1, true, nil
}

func contractCall(c Contract, method string, input []byte, st contractState) (interfaces.InvokeResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.Invoke(ctx, interfaces.InvokeRequest{
		Contract:  interfaces.StarID(interfaces.DomainSum("constellation/conformance/contract")),
		CodeHash:  interfaces.Sum([]byte("conformance")),
		Method:    method,
		Caller:    interfaces.StarID(interfaces.DomainSum("constellation/conformance/caller")),
		Input:     input,
		Amount:    3,
		Height:    7,
		Timestamp: 1_767_225_600_000,
		Beacon:    interfaces.Sum([]byte("beacon")),
		State:     st,
	})
}

// contractAnswer renders a call's outcome for comparison.
func contractAnswer(r interfaces.InvokeResult, err error) string {
	if err != nil {
		return "failure: " + err.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "output %x", r.Output)
	for _, w := range r.Writes {
		fmt.Fprintf(&b, " write %x=%x(%v)", w.Key, w.Value, w.Value == nil)
	}
	for _, rv := range r.Reads {
		fmt.Fprintf(&b, " read %x@%d", rv.Key, rv.Version)
	}
	for _, e := range r.Events {
		fmt.Fprintf(&b, " event %q %x", e.Topic, e.Data)
	}
	return b.String()
}

func contractAlive(t TB, c Contract) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Describe(ctx); err != nil {
		t.Errorf("the contract no longer answers: %v", err)
	}
}
