package interfaces

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
)

// Canonical encodings of the contract transactions: the payload of a
// TxDeploy (DeployPayload) and of a TxCall (CallPayload), the result hosts
// co-sign (CallResult) and the statement a co-signature covers
// (EndorsementBytes). Each is a version byte, then fixed fields in order,
// lists with a length prefix, and lists that are sets sorted and unique, so
// that a value has exactly one encoding.

// Bounds of the contract encodings.
const (
	MaxContractMethods = 256       // methods in an interface
	MaxContractName    = 128       // bytes of a method, type or contract name
	MaxContractHosts   = 64        // hosts of one contract
	MaxContractKey     = 1024      // bytes of a state key (namespace included)
	MaxContractValue   = 16 << 10  // bytes of a state value
	MaxContractWrites  = 256       // writes of one call
	MaxContractReads   = 1024      // reads of one call
	MaxContractEvents  = 64        // events of one call
	MaxContractIO      = 16 << 10  // bytes of a call's input, output and event data
	MaxBundleInTx      = 60 << 10  // a bundle larger than this is not carried by its deploy
	MaxContractBundle  = 256 << 20 // bytes of a bundle taken from a host's contracts directory
)

// ContractRuntimeKind says what runs a contract's bundle.
type ContractRuntimeKind uint8

const (
	// RuntimeGo: the bundle is a native executable (built with the Go SDK,
	// plugins/contract), started as a child process with go-plugin's
	// SecureConfig checking its sha256.
	RuntimeGo ContractRuntimeKind = 1
	// RuntimeJVM: the bundle is a jar run by the host's JVM after its
	// bytecode passed the determinism check.
	RuntimeJVM ContractRuntimeKind = 2
)

func (k ContractRuntimeKind) String() string {
	switch k {
	case RuntimeGo:
		return "go"
	case RuntimeJVM:
		return "jvm"
	}
	return fmt.Sprintf("runtime(%d)", uint8(k))
}

// ParseContractRuntimeKind parses "go" or "jvm".
func ParseContractRuntimeKind(s string) (ContractRuntimeKind, error) {
	switch s {
	case "go":
		return RuntimeGo, nil
	case "jvm":
		return RuntimeJVM, nil
	}
	return 0, fmt.Errorf("unknown contract runtime %q (want go or jvm)", s)
}

// MethodSig is one method of a contract's typed interface. Type names are
// compared as strings.
type MethodSig struct {
	Name   string
	Input  string
	Output string
}

// ContractInterface is a contract's typed interface: its methods sorted by
// name, names unique.
type ContractInterface struct {
	Methods []MethodSig
}

// Method returns the method called name.
func (c ContractInterface) Method(name string) (MethodSig, bool) {
	i, ok := slices.BinarySearchFunc(c.Methods, name, func(m MethodSig, n string) int {
		return compareStrings(m.Name, n)
	})
	if !ok {
		return MethodSig{}, false
	}
	return c.Methods[i], true
}

// Normalize returns c with its methods sorted by name.
func (c ContractInterface) Normalize() ContractInterface {
	m := slices.Clone(c.Methods)
	slices.SortFunc(m, func(a, b MethodSig) int { return compareStrings(a.Name, b.Name) })
	return ContractInterface{Methods: m}
}

// Check reports what makes c unusable: no methods, too many, an empty or
// overlong name, a name twice, or methods not sorted.
func (c ContractInterface) Check() error {
	if len(c.Methods) == 0 {
		return errors.New("interface has no methods")
	}
	if len(c.Methods) > MaxContractMethods {
		return fmt.Errorf("interface has %d methods, limit %d", len(c.Methods), MaxContractMethods)
	}
	for i, m := range c.Methods {
		if m.Name == "" || len(m.Name) > MaxContractName || len(m.Input) > MaxContractName || len(m.Output) > MaxContractName {
			return fmt.Errorf("method %d (%q): names must be 1 to %d bytes", i, m.Name, MaxContractName)
		}
		if i > 0 && c.Methods[i-1].Name >= m.Name {
			return fmt.Errorf("methods not sorted and unique at %q", m.Name)
		}
	}
	return nil
}

// Equal reports whether c and o name the same methods with the same types.
func (c ContractInterface) Equal(o ContractInterface) bool {
	return slices.Equal(c.Methods, o.Methods)
}

// Diff describes the first difference between a notarized interface
// (want) and what a contract says it implements (c), or "" when equal.
func (c ContractInterface) Diff(want ContractInterface) string {
	for _, w := range want.Methods {
		g, ok := c.Method(w.Name)
		switch {
		case !ok:
			return fmt.Sprintf("method %s is missing", w.Name)
		case g != w:
			return fmt.Sprintf("method %s is %s -> %s, notarized as %s -> %s", w.Name, g.Input, g.Output, w.Input, w.Output)
		}
	}
	for _, g := range c.Methods {
		if _, ok := want.Method(g.Name); !ok {
			return fmt.Sprintf("method %s is not in the notarized interface", g.Name)
		}
	}
	return ""
}

func (c ContractInterface) encode(e *Encoder) {
	e.Uvarint(uint64(len(c.Methods)))
	for _, m := range c.Methods {
		e.String(m.Name)
		e.String(m.Input)
		e.String(m.Output)
	}
}

func decodeInterface(d *Decoder) ContractInterface {
	var c ContractInterface
	n := d.Len(MaxContractMethods)
	for i := 0; i < n && d.Err() == nil; i++ {
		c.Methods = append(c.Methods, MethodSig{
			Name:   d.String(MaxContractName),
			Input:  d.String(MaxContractName),
			Output: d.String(MaxContractName),
		})
	}
	if d.Err() == nil {
		if err := c.Check(); err != nil {
			d.Fail(err)
		}
	}
	return c
}

// DeployPayload is a TxDeploy's payload: it notarizes a contract.
type DeployPayload struct {
	Runtime   ContractRuntimeKind
	Name      string // for people; not unique
	CodeHash  Hash   // sha256 of the bundle
	Bundle    []byte // the bundle when it fits (MaxBundleInTx); empty otherwise
	Interface ContractInterface
	Hosts     []StarID // sorted, unique
	Threshold uint16   // co-signatures a call needs, 1..len(Hosts)
}

// Check reports what makes p unusable.
func (p DeployPayload) Check() error {
	if p.Runtime != RuntimeGo && p.Runtime != RuntimeJVM {
		return fmt.Errorf("unknown runtime %d (1 is go, 2 is jvm)", uint8(p.Runtime))
	}
	if len(p.Name) > MaxContractName {
		return fmt.Errorf("name has %d bytes, limit %d", len(p.Name), MaxContractName)
	}
	if p.CodeHash.IsZero() {
		return errors.New("zero code hash")
	}
	if len(p.Bundle) > MaxBundleInTx {
		return fmt.Errorf("bundle of %d bytes is carried in the deploy; above %d bytes hosts take it from their contracts directory", len(p.Bundle), MaxBundleInTx)
	}
	if len(p.Bundle) > 0 && Sum(p.Bundle) != p.CodeHash {
		return fmt.Errorf("bundle hashes to %s, the deploy names %s", Sum(p.Bundle).Short(), p.CodeHash.Short())
	}
	if err := p.Interface.Check(); err != nil {
		return err
	}
	if len(p.Hosts) == 0 || len(p.Hosts) > MaxContractHosts {
		return fmt.Errorf("%d hosts, want 1 to %d", len(p.Hosts), MaxContractHosts)
	}
	for i, h := range p.Hosts {
		if h.IsZero() {
			return fmt.Errorf("host %d is the zero star", i)
		}
		if i > 0 && CompareStars(p.Hosts[i-1], h) >= 0 {
			return fmt.Errorf("hosts not sorted and unique at %s", h.Short())
		}
	}
	if p.Threshold == 0 || int(p.Threshold) > len(p.Hosts) {
		return fmt.Errorf("threshold %d of %d hosts", p.Threshold, len(p.Hosts))
	}
	return nil
}

// Encode returns the canonical payload bytes.
func (p DeployPayload) Encode() []byte {
	e := NewEncoder(128 + len(p.Bundle) + 32*len(p.Hosts))
	e.U8(1)
	e.U8(uint8(p.Runtime))
	e.String(p.Name)
	e.Fixed(p.CodeHash[:])
	e.VarBytes(p.Bundle)
	p.Interface.encode(e)
	e.Uvarint(uint64(len(p.Hosts)))
	for _, h := range p.Hosts {
		e.Fixed(h[:])
	}
	e.U32(uint32(p.Threshold))
	return e.Bytes()
}

// DecodeDeployPayload decodes and checks a TxDeploy payload.
func DecodeDeployPayload(b []byte) (DeployPayload, error) {
	var p DeployPayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("deploy payload version %d, want 1", v))
	}
	p.Runtime = ContractRuntimeKind(d.U8())
	p.Name = d.String(MaxContractName)
	d.Fixed(p.CodeHash[:])
	p.Bundle = d.VarBytes(MaxBundleInTx)
	if len(p.Bundle) == 0 {
		p.Bundle = nil
	}
	p.Interface = decodeInterface(d)
	n := d.Len(MaxContractHosts)
	for i := 0; i < n && d.Err() == nil; i++ {
		var h StarID
		d.Fixed(h[:])
		p.Hosts = append(p.Hosts, h)
	}
	t := d.U32()
	if d.Err() == nil && t > MaxContractHosts {
		d.Fail(fmt.Errorf("threshold %d above the host limit %d", t, MaxContractHosts))
	}
	p.Threshold = uint16(t)
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode deploy payload: %w", err)
	}
	if err := p.Check(); err != nil {
		return p, fmt.Errorf("decode deploy payload: %w", err)
	}
	return p, nil
}

// ContractStar is the star of the contract deployed by the deployer's
// transaction number seq: its account (it holds the noOs calls pay it) and
// its name in calls. It has no key; hosts co-sign for it.
func ContractStar(deployer StarID, seq uint64) StarID {
	e := NewEncoder(40)
	e.Fixed(deployer[:])
	e.U64(seq)
	return StarID(DomainSum("constellation/contract/v1", e.Bytes()))
}

// ContractNamespace is the prefix of every state key of contract c.
func ContractNamespace(c StarID) []byte { return append([]byte("c/"), c[:]...) }

// ContractKey is the state key of contract c's own key k.
func ContractKey(c StarID, k []byte) []byte { return append(ContractNamespace(c), k...) }

// CallResult is what a host computed for a call and co-signs. Keys are full
// state keys (ContractKey); Writes and Reads are sorted by key and unique.
type CallResult struct {
	Output []byte
	Writes []KV
	Reads  []ReadVersion
	Events []Event
}

// Check reports what makes r unusable: bounds, unsorted or repeated keys.
func (r CallResult) Check() error {
	switch {
	case len(r.Output) > MaxContractIO:
		return fmt.Errorf("output of %d bytes, limit %d", len(r.Output), MaxContractIO)
	case len(r.Writes) > MaxContractWrites:
		return fmt.Errorf("%d writes, limit %d", len(r.Writes), MaxContractWrites)
	case len(r.Reads) > MaxContractReads:
		return fmt.Errorf("%d reads, limit %d", len(r.Reads), MaxContractReads)
	case len(r.Events) > MaxContractEvents:
		return fmt.Errorf("%d events, limit %d", len(r.Events), MaxContractEvents)
	}
	for i, w := range r.Writes {
		if len(w.Key) == 0 || len(w.Key) > MaxContractKey || len(w.Value) > MaxContractValue {
			return fmt.Errorf("write %d: key of %d bytes (1 to %d) or value of %d bytes (limit %d)", i, len(w.Key), MaxContractKey, len(w.Value), MaxContractValue)
		}
		if i > 0 && bytes.Compare(r.Writes[i-1].Key, w.Key) >= 0 {
			return fmt.Errorf("writes not sorted and unique at %d", i)
		}
	}
	for i, rv := range r.Reads {
		if len(rv.Key) == 0 || len(rv.Key) > MaxContractKey {
			return fmt.Errorf("read %d: key of %d bytes, want 1 to %d", i, len(rv.Key), MaxContractKey)
		}
		if i > 0 && bytes.Compare(r.Reads[i-1].Key, rv.Key) >= 0 {
			return fmt.Errorf("reads not sorted and unique at %d", i)
		}
	}
	for i, ev := range r.Events {
		if len(ev.Topic) > MaxTopicLen || len(ev.Data) > MaxContractIO {
			return fmt.Errorf("event %d: topic of %d bytes (limit %d) or data of %d bytes (limit %d)", i, len(ev.Topic), MaxTopicLen, len(ev.Data), MaxContractIO)
		}
	}
	return nil
}

func (r CallResult) encode(e *Encoder) {
	e.VarBytes(r.Output)
	e.Uvarint(uint64(len(r.Writes)))
	for _, w := range r.Writes {
		e.VarBytes(w.Key)
		e.Bool(w.Value != nil)
		if w.Value != nil {
			e.VarBytes(w.Value)
		}
	}
	e.Uvarint(uint64(len(r.Reads)))
	for _, rv := range r.Reads {
		e.VarBytes(rv.Key)
		e.U64(rv.Version)
	}
	e.Uvarint(uint64(len(r.Events)))
	for _, ev := range r.Events {
		e.String(ev.Topic)
		e.VarBytes(ev.Data)
	}
}

func decodeCallResult(d *Decoder) CallResult {
	var r CallResult
	r.Output = d.VarBytes(MaxContractIO)
	n := d.Len(MaxContractWrites)
	for i := 0; i < n && d.Err() == nil; i++ {
		w := KV{Key: d.VarBytes(MaxContractKey)}
		if d.Bool() {
			w.Value = d.VarBytes(MaxContractValue)
			if w.Value == nil {
				w.Value = []byte{}
			}
		}
		r.Writes = append(r.Writes, w)
	}
	n = d.Len(MaxContractReads)
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Reads = append(r.Reads, ReadVersion{Key: d.VarBytes(MaxContractKey), Version: d.U64()})
	}
	n = d.Len(MaxContractEvents)
	for i := 0; i < n && d.Err() == nil; i++ {
		r.Events = append(r.Events, Event{Topic: d.String(MaxTopicLen), Data: d.VarBytes(MaxContractIO)})
	}
	if d.Err() == nil {
		if err := r.Check(); err != nil {
			d.Fail(err)
		}
	}
	return r
}

// Encode returns the result's canonical bytes (version 1).
func (r CallResult) Encode() []byte {
	e := NewEncoder(64 + len(r.Output))
	e.U8(1)
	r.encode(e)
	return e.Bytes()
}

// Call is what a caller asks of a contract: everything a co-signature
// covers apart from the result.
type Call struct {
	Contract StarID
	Caller   StarID
	Seq      uint64 // the caller's transaction that will carry the call
	Method   string
	Input    []byte
	Amount   uint64
	Height   uint64 // the state height it executes against
}

// EndorsementBytes is what a host signs for a call and its result:
// DomainSum("constellation/contract-endorse/v1", call, result). It covers
// the result, not only the call, so a co-signature vouches for exactly
// these writes and read versions.
func EndorsementBytes(c Call, r CallResult) []byte {
	e := NewEncoder(160 + len(c.Input) + len(r.Output))
	e.U8(1)
	e.Fixed(c.Contract[:])
	e.Fixed(c.Caller[:])
	e.U64(c.Seq)
	e.String(c.Method)
	e.VarBytes(c.Input)
	e.U64(c.Amount)
	e.U64(c.Height)
	r.encode(e)
	h := DomainSum("constellation/contract-endorse/v1", e.Bytes())
	return h[:]
}

// Endorsement is one host's co-signature of a call's result.
type Endorsement struct {
	Host StarID
	Sig  [ed25519.SignatureSize]byte
}

// Endorse signs c and r with a host's key.
func Endorse(key ed25519.PrivateKey, c Call, r CallResult) (Endorsement, error) {
	pub, _ := key.Public().(ed25519.PublicKey)
	host, err := StarIDFromPublicKey(pub)
	if err != nil {
		return Endorsement{}, fmt.Errorf("endorse call: %w", err)
	}
	var en Endorsement
	en.Host = host
	copy(en.Sig[:], ed25519.Sign(key, EndorsementBytes(c, r)))
	return en, nil
}

// Verify reports whether en is the host's signature over c and r.
func (en Endorsement) Verify(c Call, r CallResult) bool {
	return VerifyTxSignature(en.Host, EndorsementBytes(c, r), en.Sig[:])
}

// CallPayload is a TxCall's payload. The transaction's Sender is the
// caller and its Counterparty the contract; Method, Input, Amount and
// Height with those make the Call the endorsements cover.
type CallPayload struct {
	Method       string
	Input        []byte
	Amount       uint64
	Height       uint64
	Result       CallResult
	Endorsements []Endorsement // sorted by host, unique
}

// Call returns the call tx makes with p.
func (p CallPayload) Call(tx *Transaction) Call {
	return Call{Contract: tx.Counterparty, Caller: tx.Sender, Seq: tx.Seq, Method: p.Method, Input: p.Input, Amount: p.Amount, Height: p.Height}
}

// Encode returns the canonical payload bytes.
func (p CallPayload) Encode() []byte {
	e := NewEncoder(128 + len(p.Input) + 96*len(p.Endorsements))
	e.U8(1)
	e.String(p.Method)
	e.VarBytes(p.Input)
	e.U64(p.Amount)
	e.U64(p.Height)
	p.Result.encode(e)
	e.Uvarint(uint64(len(p.Endorsements)))
	for _, en := range p.Endorsements {
		e.Fixed(en.Host[:])
		e.Fixed(en.Sig[:])
	}
	return e.Bytes()
}

// DecodeCallPayload decodes and checks a TxCall payload (shape only: the
// ledger checks the endorsements against the deploy).
func DecodeCallPayload(b []byte) (CallPayload, error) {
	var p CallPayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("call payload version %d, want 1", v))
	}
	p.Method = d.String(MaxContractName)
	p.Input = d.VarBytes(MaxContractIO)
	p.Amount = d.U64()
	p.Height = d.U64()
	p.Result = decodeCallResult(d)
	n := d.Len(MaxContractHosts)
	for i := 0; i < n && d.Err() == nil; i++ {
		var en Endorsement
		d.Fixed(en.Host[:])
		d.Fixed(en.Sig[:])
		if d.Err() == nil && i > 0 && CompareStars(p.Endorsements[i-1].Host, en.Host) >= 0 {
			d.Fail(fmt.Errorf("endorsements not sorted by host and unique at %d", i))
		}
		p.Endorsements = append(p.Endorsements, en)
	}
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode call payload: %w", err)
	}
	if p.Method == "" {
		return p, errors.New("decode call payload: empty method")
	}
	return p, nil
}

// SortEndorsements sorts endorsements by host and drops repeats of a host.
func SortEndorsements(ens []Endorsement) []Endorsement {
	out := slices.Clone(ens)
	slices.SortFunc(out, func(a, b Endorsement) int { return CompareStars(a.Host, b.Host) })
	return slices.CompactFunc(out, func(a, b Endorsement) bool { return a.Host == b.Host })
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// DecodeCallResult decodes and checks a result's canonical bytes
// (CallResult.Encode).
func DecodeCallResult(b []byte) (CallResult, error) {
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 1 {
		d.Fail(fmt.Errorf("call result version %d, want 1", v))
	}
	r := decodeCallResult(d)
	if err := d.Finish(); err != nil {
		return r, fmt.Errorf("decode call result: %w", err)
	}
	return r, nil
}
