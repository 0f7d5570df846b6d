package contract

import (
	"context"
	"strings"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

type mapState map[string]string

func (m mapState) Get(k []byte) ([]byte, uint64, bool, error) {
	v, ok := m[string(k)]
	return []byte(v), 0, ok, nil
}

type pair struct {
	A string `json:"a"`
}

func TestMethodsDescribeTheirTypesAndWritesComeSorted(t *testing.T) {
	c := New()
	Method(c, "count", func(call *Call, n uint64) (uint64, error) {
		old, err := call.GetU64("n")
		if err != nil {
			return 0, err
		}
		call.PutU64("z", 1)
		call.PutU64("n", old+n)
		call.Delete("gone")
		v, _ := call.GetU64("n") // sees its own write
		return v, nil
	})
	Method(c, "echo", func(_ *Call, p pair) (string, error) { return p.A, nil })
	d := c.Describe()
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if m, _ := d.Method("count"); m.Input != "u64" || m.Output != "u64" {
		t.Fatalf("count = %+v", m)
	}
	if m, _ := d.Method("echo"); m.Input != "json:contract.pair" || m.Output != "string" {
		t.Fatalf("echo = %+v", m)
	}
	res, err := c.Invoke(context.Background(), interfaces.InvokeRequest{Method: "count", Input: []byte("5"), State: mapState{"n": "2"}})
	if err != nil || string(res.Output) != "7" {
		t.Fatalf("count = %q, %v", res.Output, err)
	}
	if len(res.Writes) != 3 || string(res.Writes[0].Key) != "gone" || res.Writes[0].Value != nil || string(res.Writes[1].Key) != "n" || string(res.Writes[2].Key) != "z" {
		t.Fatalf("writes = %+v", res.Writes)
	}
}

func TestBadInputIsAContractFailureNamingTheMethod(t *testing.T) {
	c := New()
	Method(c, "count", func(*Call, uint64) (uint64, error) { return 0, nil })
	Method(c, "echo", func(_ *Call, p pair) (string, error) { return p.A, nil })
	for _, in := range []struct{ m, input string }{{"count", "007"}, {"count", "x"}, {"echo", `{"b":1}`}} {
		_, err := c.Invoke(context.Background(), interfaces.InvokeRequest{Method: in.m, Input: []byte(in.input), State: mapState{}})
		if err == nil || !strings.Contains(err.Error(), in.m) {
			t.Errorf("%s(%q): %v", in.m, in.input, err)
		}
	}
	if _, err := c.Invoke(context.Background(), interfaces.InvokeRequest{Method: "nope", State: mapState{}}); err == nil {
		t.Error("an unknown method ran")
	}
}
