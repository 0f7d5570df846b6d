package main

import (
	"testing"

	"github.com/constellation-chain/constellation/interfaces"
)

func TestScoreTextIsTheFraction(t *testing.T) {
	for s, want := range map[interfaces.Score]string{0: "0.000000000", 688203164: "0.688203164", interfaces.ScoreOne: "1.000000000", -5: "-0.000000005"} {
		if got := scoreText(s); got != want {
			t.Errorf("scoreText(%d) = %s, want %s", s, got, want)
		}
	}
}
