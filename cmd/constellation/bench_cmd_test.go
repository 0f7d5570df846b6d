package main

import (
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

// planFor parses args as `bench consensus` flags and returns the plan.
func planFor(t *testing.T, args ...string) (benchPlan, error) {
	t.Helper()
	var plan benchPlan
	var perr error
	cmd := benchCommand().Subcommands[0]
	cmd.Action = func(c *cli.Context) error {
		plan, perr = benchPlanFrom(c)
		return nil
	}
	app := &cli.App{Name: "constellation", Commands: []*cli.Command{{Name: "bench", Subcommands: []*cli.Command{cmd}}}}
	if err := app.Run(append([]string{"constellation", "bench", "consensus"}, args...)); err != nil {
		t.Fatal(err)
	}
	return plan, perr
}

func TestBenchDefaultPlanIsTheDefinitionWithoutBAndCAtSixteen(t *testing.T) {
	p, err := planFor(t)
	if err != nil {
		t.Fatal(err)
	}
	if p.warmup != 5 || p.epochs != 50 || p.reps != 3 || !slices.Equal(p.sizes, []int{4, 7, 10, 16}) || !slices.Equal(p.loads, []int{100, 1000}) {
		t.Fatalf("default plan %+v", p)
	}
	if !slices.Equal(p.skipped, []string{"mode B N=16", "mode C N=16"}) {
		t.Fatalf("skipped %v", p.skipped)
	}
	full, err := planFor(t, "--full")
	if err != nil || len(full.skipped) != 0 {
		t.Fatalf("--full skipped %v (%v)", full.skipped, err)
	}
}

func TestBenchQuickPlanIsSmall(t *testing.T) {
	p, err := planFor(t, "--quick", "--modes", "a,c")
	if err != nil {
		t.Fatal(err)
	}
	if p.warmup != 2 || p.epochs != 10 || p.reps != 1 || !slices.Equal(p.sizes, []int{4, 7}) || !slices.Equal(p.modes, []string{"A", "C"}) {
		t.Fatalf("quick plan %+v", p)
	}
}

func TestBenchPlanRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--modes", "D"}, {"--sizes", "4,x"}, {"--loads", "0"}, {"--epochs", "0"}} {
		if _, err := planFor(t, args...); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
