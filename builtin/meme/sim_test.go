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
		// half-way through the run, so their seat share is not checked.)
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
