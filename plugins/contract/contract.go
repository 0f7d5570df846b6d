// Package contract is the SDK for writing a Constellation smart contract in
// Go. A contract is a small program: it registers typed methods on a
// Contract and calls Serve from main. The node starts it as its own child
// process (after checking its sha256 against the deploy) and runs calls on
// it; the contract reads and writes only its own state, through the Call
// each method gets.
//
//	func main() {
//		c := contract.New()
//		contract.Method(c, "greet", func(call *contract.Call, name string) (string, error) {
//			return "hello " + name, nil
//		})
//		contract.Serve(c)
//	}
//
// A method must be deterministic: its result may depend only on its input,
// the Call's fields and the state it reads. No clock, no randomness (use
// Call.Beacon), no files, no network, no goroutines that outlive the call,
// no iteration over Go maps where order matters.
package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/constellation-chain/constellation/interfaces"
	"github.com/constellation-chain/constellation/plugins"
)

// Call is one invocation as a method sees it. Reads see the call's own
// writes first. A Call is not safe for concurrent use and is only valid
// during the method.
type Call struct {
	Contract  interfaces.StarID // this contract's star (its account)
	Caller    interfaces.StarID
	Amount    uint64 // noOs the call moves from the caller to the contract's account, if it succeeds
	Height    uint64 // the state height the call executes against
	Timestamp int64  // that block's timestamp, unix ms
	Beacon    interfaces.Hash

	state  interfaces.ContractState
	writes map[string][]byte // nil value: deleted
	events []interfaces.Event
}

// Get returns the value under key and whether there is one.
func (c *Call) Get(key string) ([]byte, bool, error) {
	if v, ok := c.writes[key]; ok {
		return v, v != nil, nil
	}
	v, _, ok, err := c.state.Get([]byte(key))
	return v, ok, err
}

// Put sets key to value.
func (c *Call) Put(key string, value []byte) {
	if value == nil {
		value = []byte{}
	}
	c.writes[key] = slices.Clone(value)
}

// Delete removes key.
func (c *Call) Delete(key string) { c.writes[key] = nil }

// GetU64 reads a counter written by PutU64; 0 when the key has no value.
func (c *Call) GetU64(key string) (uint64, error) {
	v, ok, err := c.Get(key)
	if err != nil || !ok {
		return 0, err
	}
	return decodeU64(v)
}

// PutU64 writes a counter.
func (c *Call) PutU64(key string, v uint64) { c.Put(key, []byte(strconv.FormatUint(v, 10))) }

// Emit records an event.
func (c *Call) Emit(topic string, data []byte) {
	c.events = append(c.events, interfaces.Event{Topic: topic, Data: slices.Clone(data)})
}

// Contract is a set of typed methods.
type Contract struct {
	methods map[string]method
}

type method struct {
	sig interfaces.MethodSig
	run func(*Call, []byte) ([]byte, error)
}

// New returns a contract with no methods.
func New() *Contract { return &Contract{methods: map[string]method{}} }

// Method registers f as the method name. In and Out are encoded by type:
// string as its bytes ("string"), uint64 as canonical decimal text ("u64"),
// []byte as is ("bytes"), anything else as JSON ("json:<Go type name>").
// Registering a name twice panics (a programming error, at start-up).
func Method[In, Out any](c *Contract, name string, f func(*Call, In) (Out, error)) {
	if _, dup := c.methods[name]; dup {
		panic(fmt.Sprintf("contract: method %q registered twice", name))
	}
	c.methods[name] = method{
		sig: interfaces.MethodSig{Name: name, Input: typeName[In](), Output: typeName[Out]()},
		run: func(call *Call, raw []byte) ([]byte, error) {
			var in In
			if err := decode(raw, &in); err != nil {
				return nil, fmt.Errorf("%s: input: %w", name, err)
			}
			out, err := f(call, in)
			if err != nil {
				return nil, err
			}
			return encode(out)
		},
	}
}

// Describe implements plugins.ContractHandler.
func (c *Contract) Describe() interfaces.ContractInterface {
	var ci interfaces.ContractInterface
	for _, m := range c.methods {
		ci.Methods = append(ci.Methods, m.sig)
	}
	return ci.Normalize()
}

// Invoke implements plugins.ContractHandler.
func (c *Contract) Invoke(_ context.Context, req interfaces.InvokeRequest) (interfaces.InvokeResult, error) {
	m, ok := c.methods[req.Method]
	if !ok {
		return interfaces.InvokeResult{}, fmt.Errorf("no method %q", req.Method)
	}
	call := &Call{
		Contract: req.Contract, Caller: req.Caller, Amount: req.Amount,
		Height: req.Height, Timestamp: req.Timestamp, Beacon: req.Beacon,
		state: req.State, writes: map[string][]byte{},
	}
	out, err := m.run(call, req.Input)
	if err != nil {
		return interfaces.InvokeResult{}, err
	}
	res := interfaces.InvokeResult{Output: out, Events: call.events}
	for k, v := range call.writes {
		res.Writes = append(res.Writes, interfaces.KV{Key: []byte(k), Value: v})
	}
	slices.SortFunc(res.Writes, func(a, b interfaces.KV) int { return bytes.Compare(a.Key, b.Key) })
	return res, nil
}

// Serve serves c as this process's contract. It does not return in normal
// operation; call it from main.
func Serve(c *Contract) { plugins.ServeContract(c) }

var _ plugins.ContractHandler = (*Contract)(nil)

func typeName[T any]() string {
	var z T
	switch any(z).(type) {
	case string:
		return "string"
	case uint64:
		return "u64"
	case []byte:
		return "bytes"
	}
	return "json:" + reflect.TypeOf(&z).Elem().String()
}

func decodeU64(b []byte) (uint64, error) {
	v, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil || strconv.FormatUint(v, 10) != string(b) {
		return 0, fmt.Errorf("%q is not a canonical decimal u64", b)
	}
	return v, nil
}

func decode(raw []byte, dst any) error {
	switch p := dst.(type) {
	case *string:
		*p = string(raw)
	case *uint64:
		v, err := decodeU64(raw)
		if err != nil {
			return err
		}
		*p = v
	case *[]byte:
		*p = slices.Clone(raw)
	default:
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(dst); err != nil {
			return err
		}
	}
	return nil
}

func encode(v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return []byte(x), nil
	case uint64:
		return []byte(strconv.FormatUint(x, 10)), nil
	case []byte:
		return slices.Clone(x), nil
	}
	return json.Marshal(v)
}
