package simtest

import "github.com/constellation-chain/constellation/conformance/sim"

// ACSFlipVotes is a format-aware Byzantine behaviour for ACS engines, an
// example of what an engine supplies to the conformance suite through
// conformance.ConsensusOptions: the node runs honestly but inverts every
// binary vote it sends (BVAL, AUX and TERM), trying to push agreements to
// the other value. Messages it cannot decode pass unchanged.
func ACSFlipVotes() sim.Behaviour { return flipVotes{} }

type flipVotes struct{ sim.Honest }

func (flipVotes) Name() string { return "acs-flip-votes" }

func (flipVotes) Output(env *sim.Env, out []sim.Send) []sim.Send {
	for i := range out {
		m, err := decodeACS(out[i].Payload, env.N)
		if err != nil {
			continue
		}
		switch m.typ {
		case acsBval, acsAux, acsTerm:
			m.bit ^= 1
			out[i].Payload = m.encode()
		}
	}
	return out
}
