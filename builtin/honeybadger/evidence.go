package honeybadger

import (
	"errors"
	"fmt"

	"github.com/constellation-chain/constellation/builtin/honeybadger/tcrypto"
	"github.com/constellation-chain/constellation/interfaces"
)

var _ interfaces.FaultChecker = (*Engine)(nil)

// CheckFault implements interfaces.FaultChecker: it says whether payloads,
// signed by f.Star (the caller checked the signatures), prove f under this
// engine's rules. It reads only the instance's configuration (members, f,
// parameters and the public key set), never the engine's progress, so every
// honest member gives the same answer for the same evidence.
//
// What each kind needs:
//
//	malformed       one payload that does not decode, or breaks a rule
//	                checkable from the message alone (an instance past N, a
//	                VAL for another proposer's broadcast, a COIN for a round
//	                with a scheduled coin, a DEC when encryption is off)
//	invalid-merkle  one VAL (signed to its recipient) or ECHO whose branch
//	                does not lead from its shard to its root
//	invalid-share   one COIN whose threshold share does not verify
//	equivocation    two messages of one slot (same type, epoch, instance
//	                and round) that an honest member never both sends:
//	                VALs, ECHOs or READYs with different roots, AUXs with
//	                different values, CONFs with different sets, COINs with
//	                different shares, TERMs with different values
//
// Other kinds (and DEC shares, which need the agreed ciphertext) are not
// provable from messages alone; they stay local observations.
func (e *Engine) CheckFault(f interfaces.Fault, to []interfaces.StarID, payloads [][]byte) error {
	j, ok := e.index[f.Star]
	if !ok {
		return fmt.Errorf("honeybadger: %s is not a member", f.Star.Short())
	}
	if len(to) != len(payloads) {
		return errors.New("honeybadger: recipients and payloads differ in number")
	}
	want := 1
	if f.Kind == interfaces.FaultEquivocation {
		want = 2
	}
	if len(payloads) != want {
		return fmt.Errorf("honeybadger: %s needs %d messages, evidence has %d", f.Kind, want, len(payloads))
	}
	if f.Kind == interfaces.FaultMalformed {
		m, err := DecodeMessage(payloads[0])
		if err != nil {
			return nil // garbage, signed by its sender
		}
		if m.Epoch != f.Epoch {
			return fmt.Errorf("honeybadger: message is of epoch %d, fault names %d", m.Epoch, f.Epoch)
		}
		return e.checkRules(j, m)
	}
	ms := make([]*Message, len(payloads))
	for i, p := range payloads {
		m, err := DecodeMessage(p)
		if err != nil {
			return fmt.Errorf("honeybadger: evidence message %d: %w", i, err)
		}
		if m.Epoch != f.Epoch {
			return fmt.Errorf("honeybadger: evidence message %d is of epoch %d, fault names %d", i, m.Epoch, f.Epoch)
		}
		if e.checkRules(j, m) == nil {
			return fmt.Errorf("honeybadger: evidence message %d is malformed, which is a different fault", i)
		}
		ms[i] = m
	}
	m := ms[0]
	switch f.Kind {
	case interfaces.FaultInvalidMerkle:
		var leaf int
		switch m.Type {
		case MsgVal:
			k, ok := e.index[to[0]]
			if !ok {
				return errors.New("honeybadger: a VAL must be signed to one member")
			}
			leaf = k
		case MsgEcho:
			leaf = j
		default:
			return fmt.Errorf("honeybadger: a %s carries no Merkle branch", m.Type)
		}
		if _, ok := e.hs.verifyBranch(&m.Root, e.n, leaf, m.Payload, m.Branch); ok {
			return errors.New("honeybadger: the branch verifies")
		}
		return nil
	case interfaces.FaultInvalidShare:
		coin, ok := e.coin.(*thresholdCoin)
		if !ok || m.Type != MsgCoin {
			return errors.New("honeybadger: only a threshold coin share is checkable")
		}
		var sh tcrypto.SigShare
		if err := sh.UnmarshalBinary(m.Payload); err != nil {
			return nil // not even a point
		}
		if coin.pks.VerifySigShare(j, coinName(m.Epoch, m.Instance, m.Round), sh) {
			return errors.New("honeybadger: the coin share verifies")
		}
		return nil
	case interfaces.FaultEquivocation:
		return conflict(j, ms[0], ms[1])
	}
	return fmt.Errorf("honeybadger: %s is not provable from messages", f.Kind)
}

// checkRules returns nil when m, sent by member j, breaks a rule that the
// message alone shows, and an error when it does not.
func (e *Engine) checkRules(j int, m *Message) error {
	switch {
	case m.Type != MsgDec && int(m.Instance) >= e.n:
		return nil
	case m.Type == MsgVal && int(m.Instance) != j:
		return nil
	case m.Type == MsgDec && e.cs == nil:
		return nil
	case m.Type == MsgCoin:
		if _, fixed := e.coin.fixed(m.Epoch, m.Instance, m.Round); fixed {
			return nil
		}
	case m.Type == MsgDec:
		for _, d := range m.Dec {
			if int(d.Proposer) >= e.n {
				return nil
			}
		}
	}
	return errors.New("honeybadger: the message is well-formed")
}

// conflict returns nil when a and b, both from member j, are two messages
// of one slot that an honest member never both sends.
func conflict(j int, a, b *Message) error {
	if a.Type != b.Type || a.Instance != b.Instance {
		return errors.New("honeybadger: the messages are of different slots")
	}
	same := errors.New("honeybadger: the messages do not conflict")
	switch a.Type {
	case MsgVal, MsgEcho, MsgReady:
		if a.Type == MsgVal && int(a.Instance) != j {
			return errors.New("honeybadger: a VAL for another proposer is malformed, not equivocation")
		}
		if a.Root == b.Root {
			return same
		}
	case MsgAux, MsgConf:
		if a.Round != b.Round {
			return errors.New("honeybadger: the messages are of different rounds")
		}
		if a.Value == b.Value {
			return same
		}
	case MsgCoin:
		if a.Round != b.Round {
			return errors.New("honeybadger: the messages are of different rounds")
		}
		if string(a.Payload) == string(b.Payload) {
			return same
		}
	case MsgTerm:
		if a.Value == b.Value {
			return same
		}
	default:
		return fmt.Errorf("honeybadger: %s messages are not checked for equivocation", a.Type)
	}
	return nil
}
