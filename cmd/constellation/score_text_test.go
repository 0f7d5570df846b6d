package main

import (
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

// TestScoreTextIsTheFraction: replay and a plugin's explain print a score
// as the decimal it stands for, in the built-in explain's format (nine
// places at most, trailing zeros trimmed).
func TestScoreTextIsTheFraction(t *testing.T) {
	for s, want := range map[interfaces.Score]string{
		0:                                "0",
		688203164:                        "0.688203164",
		500_000_000:                      "0.5",
		interfaces.ScoreOne:              "1",
		interfaces.ScoreOne + 20_000_000: "1.02",
		-5:                               "-0.000000005",
	} {
		if got := scoreText(s); got != want {
			t.Errorf("scoreText(%d) = %s, want %s", s, got, want)
		}
	}
}
