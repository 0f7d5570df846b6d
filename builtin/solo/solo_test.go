package solo

import (
	"bytes"
	"errors"
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestEachProposalDecidesItsOwnEpoch(t *testing.T) {
	self := interfaces.DevStar("solo")
	c, err := Factory{}.NewConsensus(interfaces.ConsensusConfig{Self: self, Members: []interfaces.StarID{self}, Epoch: 7})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		data := []byte{byte(i)}
		out, err := c.Propose(data)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Decisions) != 1 || out.Decisions[0].Epoch != uint64(7+i) {
			t.Fatalf("proposal %d: decisions %+v, want epoch %d", i, out.Decisions, 7+i)
		}
		got := out.Decisions[0].Contributions
		if len(got) != 1 || got[0].Proposer != self || !bytes.Equal(got[0].Data, data) {
			t.Fatalf("proposal %d: contributions %+v", i, got)
		}
		data[0] = 99 // the decision must not alias the caller's buffer
		if got[0].Data[0] == 99 {
			t.Fatal("decision aliases the proposed buffer")
		}
	}
	if c.Epoch() != 10 {
		t.Fatalf("epoch %d, want 10", c.Epoch())
	}
}

func TestRefusesSeveralMembers(t *testing.T) {
	a, b := interfaces.DevStar("a"), interfaces.DevStar("b")
	_, err := Factory{}.NewConsensus(interfaces.ConsensusConfig{Self: a, Members: []interfaces.StarID{a, b}})
	if !errors.Is(err, ErrNotSingleMember) {
		t.Fatalf("err = %v, want ErrNotSingleMember", err)
	}
	if _, err := (Factory{}).NewConsensus(interfaces.ConsensusConfig{Self: a, Members: []interfaces.StarID{b}}); err == nil {
		t.Fatal("accepted a member list without self")
	}
}

func TestStepIgnoresNoise(t *testing.T) {
	self := interfaces.DevStar("solo")
	c, _ := Factory{}.NewConsensus(interfaces.ConsensusConfig{Self: self, Members: []interfaces.StarID{self}})
	out, err := c.Step(interfaces.DevStar("x"), []byte("garbage"))
	if err != nil || len(out.Decisions)+len(out.Messages)+len(out.Faults) != 0 {
		t.Fatalf("Step on noise: %+v, %v", out, err)
	}
}

func TestInfoIsValid(t *testing.T) {
	if err := (Factory{}).Info().Validate(); err != nil {
		t.Fatal(err)
	}
}
