package interfaces_test

import (
	"errors"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// acceptAll is a checker whose rules every payload breaks, so the tests
// below exercise VerifyFault's own checks.
type acceptAll struct{}

func (acceptAll) CheckFault(interfaces.Fault, []interfaces.StarID, [][]byte) error { return nil }

type refuseAll struct{}

func (refuseAll) CheckFault(interfaces.Fault, []interfaces.StarID, [][]byte) error {
	return errors.New("well-formed")
}

func faultOf(ms ...interfaces.SignedMessage) interfaces.Fault {
	return interfaces.Fault{Star: ms[0].From, Kind: interfaces.FaultEquivocation, Epoch: ms[0].Epoch, Evidence: (&interfaces.Evidence{Messages: ms}).Encode()}
}

func TestSignedMessageSignatureCoversEveryField(t *testing.T) {
	m := sampleSigned("a", 3, []byte("payload"))
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*interfaces.SignedMessage){
		"instance": func(m *interfaces.SignedMessage) { m.Instance[0] ^= 1 },
		"epoch":    func(m *interfaces.SignedMessage) { m.Epoch++ },
		"from":     func(m *interfaces.SignedMessage) { m.From = interfaces.DevStar("b") },
		"to":       func(m *interfaces.SignedMessage) { m.To = interfaces.DevStar("b") },
		"payload":  func(m *interfaces.SignedMessage) { m.Payload = []byte("payloaD") },
	} {
		c := m
		mutate(&c)
		if err := c.Verify(); !errors.Is(err, interfaces.ErrBadSignature) {
			t.Errorf("changing %s: %v, want a bad signature", name, err)
		}
	}
}

func TestInstanceIDsDifferByGroupStartAndMembers(t *testing.T) {
	a, b := interfaces.DevStar("a"), interfaces.DevStar("b")
	base := interfaces.NewInstanceID("net", "cluster/0", 0, []interfaces.StarID{a, b})
	if interfaces.NewInstanceID("net", "cluster/0", 0, []interfaces.StarID{b, a}) != base {
		t.Fatal("member order changes the id")
	}
	for name, id := range map[string]interfaces.InstanceID{
		"network": interfaces.NewInstanceID("net2", "cluster/0", 0, []interfaces.StarID{a, b}),
		"group":   interfaces.NewInstanceID("net", "galaxy", 0, []interfaces.StarID{a, b}),
		"start":   interfaces.NewInstanceID("net", "cluster/0", 9, []interfaces.StarID{a, b}),
		"members": interfaces.NewInstanceID("net", "cluster/0", 0, []interfaces.StarID{a}),
	} {
		if id == base {
			t.Errorf("another %s gives the same instance id", name)
		}
	}
}

func TestVerifyFaultNeedsTheAccusedStarsOwnValidSignatures(t *testing.T) {
	a1, a2 := sampleSigned("a", 1, []byte("x")), sampleSigned("a", 1, []byte("y"))
	inst := a1.Instance
	if err := interfaces.VerifyFault(inst, acceptAll{}, faultOf(a1, a2)); err != nil {
		t.Fatalf("good evidence refused: %v", err)
	}
	forged := a2
	forged.Payload = []byte("z") // signature no longer matches
	b := sampleSigned("b", 1, []byte("y"))
	wrongEpoch := faultOf(a1, a2)
	wrongEpoch.Epoch = 2
	wrongStar := faultOf(a1, a2)
	wrongStar.Star = interfaces.DevStar("b")
	for name, c := range map[string]struct {
		inst    interfaces.InstanceID
		checker interfaces.FaultChecker
		f       interfaces.Fault
	}{
		"forged signature":              {inst, acceptAll{}, faultOf(a1, forged)},
		"another star's message":        {inst, acceptAll{}, faultOf(a1, b)},
		"another instance":              {interfaces.InstanceID{1}, acceptAll{}, faultOf(a1, a2)},
		"epoch not the message's":       {inst, acceptAll{}, wrongEpoch},
		"accusing who did not sign":     {inst, acceptAll{}, wrongStar},
		"engine says no rule is broken": {inst, refuseAll{}, faultOf(a1, a2)},
		"no checker":                    {inst, nil, faultOf(a1, a2)},
		"not evidence at all":           {inst, acceptAll{}, interfaces.Fault{Star: a1.From, Kind: interfaces.FaultMalformed, Epoch: 1, Evidence: []byte("local observation")}},
	} {
		if err := interfaces.VerifyFault(c.inst, c.checker, c.f); !errors.Is(err, interfaces.ErrNotProvable) {
			t.Errorf("%s: %v, want ErrNotProvable", name, err)
		}
	}
}
