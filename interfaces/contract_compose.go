package interfaces

import (
	"errors"
	"fmt"
)

// Typed composition. A composite names contracts and methods in order,
// each one's output feeding the next one's input ("A's output feeds B").
// Its deploy (TxDeploy, CompositePayload: payload version 2) is type-checked
// by the ledger against the legs' notarized interfaces; a call of it
// (TxCall, CompositeCallPayload: payload version 2) carries every leg's
// co-signed result and is applied atomically: all of its writes or none.
// Writes of different contracts never collide: each stays under its own
// contract's namespace.

// MaxCompositeLegs bounds a composite.
const MaxCompositeLegs = 8

// CompositeLeg is one step of a composite: a contract and its method.
type CompositeLeg struct {
	Contract StarID
	Method   string
}

// CompositePayload is the payload of a TxDeploy that deploys a composite.
type CompositePayload struct {
	Name string
	Legs []CompositeLeg // at least two
}

// Encode returns the canonical payload bytes (version 2).
func (p CompositePayload) Encode() []byte {
	e := NewEncoder(16 + 48*len(p.Legs))
	e.U8(2)
	e.String(p.Name)
	e.Uvarint(uint64(len(p.Legs)))
	for _, l := range p.Legs {
		e.Fixed(l.Contract[:])
		e.String(l.Method)
	}
	return e.Bytes()
}

// IsComposite reports whether a TxDeploy or TxCall payload is a
// composite's (version 2).
func IsComposite(payload []byte) bool { return len(payload) > 0 && payload[0] == 2 }

// DecodeCompositePayload decodes and checks a composite's deploy payload.
func DecodeCompositePayload(b []byte) (CompositePayload, error) {
	var p CompositePayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 2 {
		d.Fail(fmt.Errorf("composite payload version %d, want 2", v))
	}
	p.Name = d.String(MaxContractName)
	n := d.Len(MaxCompositeLegs)
	for i := 0; i < n && d.Err() == nil; i++ {
		var l CompositeLeg
		d.Fixed(l.Contract[:])
		l.Method = d.String(MaxContractName)
		p.Legs = append(p.Legs, l)
	}
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode composite payload: %w", err)
	}
	if len(p.Legs) < 2 {
		return p, fmt.Errorf("decode composite payload: %d legs, a composite has 2 to %d", len(p.Legs), MaxCompositeLegs)
	}
	for i, l := range p.Legs {
		if l.Contract.IsZero() || l.Method == "" {
			return p, fmt.Errorf("decode composite payload: leg %d names no contract or no method", i)
		}
	}
	return p, nil
}

// CheckComposition type-checks legs against their contracts' interfaces
// (ifaces[i] is leg i's): each method exists, and each leg's output type is
// the next leg's input type. The error names both types.
func CheckComposition(legs []CompositeLeg, ifaces []ContractInterface) error {
	if len(legs) != len(ifaces) {
		return errors.New("composition: one interface per leg")
	}
	var prev MethodSig
	for i, l := range legs {
		m, ok := ifaces[i].Method(l.Method)
		if !ok {
			return fmt.Errorf("composition: leg %d: contract %s has no method %q", i, l.Contract.Short(), l.Method)
		}
		if i > 0 && prev.Output != m.Input {
			return fmt.Errorf("composition: leg %d (%s.%s) outputs %q, leg %d (%s.%s) takes %q",
				i-1, legs[i-1].Contract.Short(), prev.Name, prev.Output, i, l.Contract.Short(), m.Name, m.Input)
		}
		prev = m
	}
	return nil
}

// CompositeLegResult is one leg of a composite call: what it pays its
// contract, its co-signed result, and its hosts' co-signatures.
type CompositeLegResult struct {
	Amount       uint64
	Result       CallResult
	Endorsements []Endorsement // sorted by host, unique
}

// CompositeCallPayload is the payload of a TxCall whose counterparty is a
// composite. Leg 0 takes Input; leg i takes leg i-1's output.
type CompositeCallPayload struct {
	Input  []byte
	Height uint64
	Legs   []CompositeLegResult
}

// LegCall returns the call leg i of a composite call makes: what its hosts
// co-sign. Its input is the composite's input for leg 0, the previous
// leg's output after.
func (p CompositeCallPayload) LegCall(tx *Transaction, legs []CompositeLeg, i int) Call {
	in := p.Input
	if i > 0 {
		in = p.Legs[i-1].Result.Output
	}
	return Call{Contract: legs[i].Contract, Caller: tx.Sender, Seq: tx.Seq, Method: legs[i].Method, Input: in, Amount: p.Legs[i].Amount, Height: p.Height}
}

// Encode returns the canonical payload bytes (version 2).
func (p CompositeCallPayload) Encode() []byte {
	e := NewEncoder(64 + len(p.Input))
	e.U8(2)
	e.VarBytes(p.Input)
	e.U64(p.Height)
	e.Uvarint(uint64(len(p.Legs)))
	for _, l := range p.Legs {
		e.U64(l.Amount)
		l.Result.encode(e)
		e.Uvarint(uint64(len(l.Endorsements)))
		for _, en := range l.Endorsements {
			e.Fixed(en.Host[:])
			e.Fixed(en.Sig[:])
		}
	}
	return e.Bytes()
}

// DecodeCompositeCallPayload decodes and checks the shape of a composite
// call's payload.
func DecodeCompositeCallPayload(b []byte) (CompositeCallPayload, error) {
	var p CompositeCallPayload
	d := NewDecoder(b)
	if v := d.U8(); d.Err() == nil && v != 2 {
		d.Fail(fmt.Errorf("composite call payload version %d, want 2", v))
	}
	p.Input = d.VarBytes(MaxContractIO)
	p.Height = d.U64()
	n := d.Len(MaxCompositeLegs)
	for i := 0; i < n && d.Err() == nil; i++ {
		var l CompositeLegResult
		l.Amount = d.U64()
		l.Result = decodeCallResult(d)
		m := d.Len(MaxContractHosts)
		for j := 0; j < m && d.Err() == nil; j++ {
			var en Endorsement
			d.Fixed(en.Host[:])
			d.Fixed(en.Sig[:])
			if d.Err() == nil && j > 0 && CompareStars(l.Endorsements[j-1].Host, en.Host) >= 0 {
				d.Fail(fmt.Errorf("leg %d: endorsements not sorted by host and unique at %d", i, j))
			}
			l.Endorsements = append(l.Endorsements, en)
		}
		p.Legs = append(p.Legs, l)
	}
	if err := d.Finish(); err != nil {
		return p, fmt.Errorf("decode composite call payload: %w", err)
	}
	if len(p.Legs) < 2 {
		return p, fmt.Errorf("decode composite call payload: %d legs, want 2 or more", len(p.Legs))
	}
	return p, nil
}
