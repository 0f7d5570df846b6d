package meme

import (
	"testing"

	"github.com/constellation-chain/constellation/conformance/repsim"
)

// TestSimulationTargetsAtSmallScale runs the attack simulation behind
// docs/reputation.md at a scale that fits a unit test (500 stars, 2500
// rounds, one seed, k = 31) and checks the targets at β = 25 % with
// some slack, so a change that breaks the mechanisms fails here before the
// hour-long grid is rerun.
func TestSimulationTargetsAtSmallScale(t *testing.T) {
	if testing.Short() {
		t.Skip("a small attack simulation; run without -short")
	}
	rep, err := repsim.Run(repsim.Params{
		Factory: Factory{}, Stars: 500, Rounds: 2500, Seeds: 1, Committees: []int{31},
		Scenarios: []repsim.Scenario{repsim.ScenarioSybil, repsim.ScenarioSleeper},
		Methods:   []repsim.Method{repsim.MethodMeme}, Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Rows {
		t.Logf("%s: attackers %.2f%%, Sybils %.2f%%, newcomers picked %.1f%% of %d, sleeper halving %d", r.Scenario, 100*r.SeatShare, 100*r.SybilShare, 100*r.NewcomerPicked, r.Newcomers, r.SleeperHalving)
		// (Sleepers behave, and earn seats like anyone, until they defect
		// half-way through the measured window, so their seat share is not
		// checked.)
		if r.Scenario != repsim.ScenarioSleeper && r.SeatShare > 0.05 {
			t.Errorf("%s: attackers hold %.2f%% of seats", r.Scenario, 100*r.SeatShare)
		}
		if r.Newcomers > 0 && r.NewcomerPicked < 0.9 {
			t.Errorf("%s: only %.1f%% of honest newcomers picked within %d rounds", r.Scenario, 100*r.NewcomerPicked, repsim.NewcomerWindow)
		}
		switch r.Scenario {
		case repsim.ScenarioSybil:
			if r.SybilShare > 0.01 {
				t.Errorf("Sybils hold %.2f%% of seats, want under 1%%", 100*r.SybilShare)
			}
		case repsim.ScenarioSleeper:
			if r.SleeperHalving < 0 || r.SleeperHalving > 50 {
				t.Errorf("sleepers' seat share halved after %d rounds, want within 50", r.SleeperHalving)
			}
		}
	}
}

// TestPatientAttackerCapturesNoMoreThanUnderUniform: a sleeper in its
// good phase behaves perfectly, so the most any reputation can do is not
// to help it. With the capped draw (seat_cap 1, the default) Proof-of-Meme
// captures no more rounds than the uniform draw at the same k; the
// uncapped bucket draw (seat_cap 0) concentrates seats on the best records
// — a perfect sleeper's among them — and fails the same check (64.8 % of
// the good-phase rounds against uniform's 14.3 % when this was written).
func TestPatientAttackerCapturesNoMoreThanUnderUniform(t *testing.T) {
	if testing.Short() {
		t.Skip("two small attack simulations; run without -short")
	}
	run := func(config string) repsim.Verdict {
		rep, err := repsim.Run(repsim.Params{
			Factory: Factory{}, Config: []byte(config), Stars: 500, Rounds: 3000, Seeds: 2, Committees: []int{25},
			ScenarioByzantine: []int{25}, Scenarios: []repsim.Scenario{repsim.ScenarioSleeper},
			Methods: []repsim.Method{repsim.MethodMeme, repsim.MethodUniform}, Workers: 2,
		})
		if err != nil {
			t.Fatal(err)
		}
		v, m, u, ok := rep.NoWorseThanUniform(repsim.ScenarioSleeper, 25, 25)
		if !ok {
			t.Fatal("cells missing from the report")
		}
		t.Logf("config %s: good-phase capture %d/%d, uniform %d/%d: %v", config, m.Events, m.Trials, u.Events, u.Trials, v)
		return v
	}
	if v := run(`{}`); v != repsim.Met {
		t.Errorf("capped draw: sleeper good-phase capture vs uniform is %v, want met", v)
	}
	if v := run(`{"seat_cap": 0}`); v == repsim.Met {
		t.Errorf("uncapped draw: the check passed; it should catch the concentration")
	}
}
