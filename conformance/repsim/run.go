package repsim

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/constellation-chain/constellation/interfaces"
)

// Row is the aggregate of one cell (scenario, Byzantine share, committee
// size, method) over its seeds, measured after warm-up.
type Row struct {
	Scenario  Scenario
	Byzantine int // percent of genuine stars
	K         int
	Method    Method
	// SeatShare is the attackers' share of seats (Byzantine stars and,
	// in the Sybil scenario, Sybils).
	SeatShare float64
	// SybilShare is the Sybils' share of seats (NaN outside the Sybil
	// scenario).
	SybilShare float64
	// Capture100 is CaptureProbability(Stars, SeatShare, 100): the
	// per-round probability that a committee of 100 drawn from a
	// population with Byzantine fraction SeatShare has ≥ 1/3 Byzantine seats.
	Capture100 float64
	// CapturedRounds is the observed fraction of rounds with ≥ k/3
	// attacker seats at this row's k.
	CapturedRounds float64
	// NewcomerPicked is the fraction of honest newcomers selected within
	// NewcomerWindow rounds of joining (NaN if none was eligible), out of
	// Newcomers.
	NewcomerPicked float64
	Newcomers      int
	// NewcomerAgain is the fraction of those newcomers selected a second
	// time within NewcomerWindow rounds: whether entering leads to serving,
	// or a newcomer's first seat leaves it stuck in a low bucket.
	NewcomerAgain float64
	// SleeperHalving is, in the sleeper scenario, the rounds after the
	// defect round until the attackers' seat share (mean over seeds, over
	// the trailing 10 rounds) first falls to half its mean over the 200
	// rounds before; -1 if it never does; 0 outside the sleeper scenario.
	SleeperHalving int
	// Churn scenario: Wakes counts honest sleepy stars' wakes after
	// warm-up; WakePicked is the share of them followed by a seat before
	// the star slept again (NaN outside churn), and WakeDelayMedian the
	// median rounds from such a wake to that seat (-1 if none).
	Wakes           int
	WakePicked      float64
	WakeDelayMedian int
	// Series is the attackers' seat share per round (index round-1),
	// averaged over seeds.
	Series []float64
}

// Report is the outcome of a Run.
type Report struct {
	Params Params // with defaults filled in (Factory, Progress cleared)
	Defect int    // the sleeper scenario's defect round
	Rows   []Row
}

// Run executes the configured grid. It returns the first error of any run
// (a selection or observation failure of the plugin under test).
func Run(p Params) (*Report, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("reputation simulation: %w", err)
	}
	var cells []cell
	for _, sc := range p.Scenarios {
		betas := p.ScenarioByzantine
		if sc == ScenarioStatic {
			betas = p.Byzantine
		}
		for _, b := range betas {
			for _, k := range p.Committees {
				for _, m := range p.Methods {
					cells = append(cells, cell{sc, b, k, m})
				}
			}
		}
	}
	type job struct{ c, seed int }
	jobs := make(chan job)
	results := make([][]*runResult, len(cells))
	for i := range results {
		results[i] = make([]*runResult, p.Seeds)
	}
	type done struct {
		label string
		err   error
	}
	dones := make(chan done)
	var wg sync.WaitGroup
	for range p.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				c := cells[j.c]
				res, err := runOne(&p, c, uint64(j.seed)+1)
				if err == nil {
					results[j.c][j.seed] = res
				}
				label := fmt.Sprintf("%s β=%d%% k=%d %s seed %d", c.scenario, c.beta, c.k, c.method, j.seed+1)
				if err != nil {
					err = fmt.Errorf("%s: %w", label, err)
				}
				dones <- done{label, err}
			}
		}()
	}
	total := len(cells) * p.Seeds
	go func() {
		defer close(jobs)
		for s := range p.Seeds {
			for c := range cells {
				jobs <- job{c, s}
			}
		}
	}()
	go func() { wg.Wait(); close(dones) }()
	var firstErr error
	n := 0
	for d := range dones {
		n++
		if d.err != nil && firstErr == nil {
			firstErr = d.err
		}
		if p.Progress != nil {
			p.Progress(n, total, d.label)
		}
	}
	if firstErr != nil {
		return nil, fmt.Errorf("reputation simulation: %w", firstErr)
	}
	rep := &Report{Params: p, Defect: defectRound(p.Rounds)}
	rep.Params.Factory, rep.Params.Progress = nil, nil
	for i, c := range cells {
		rep.Rows = append(rep.Rows, aggregate(&p, c, results[i], rep.Defect))
	}
	return rep, nil
}

func runOne(p *Params, c cell, seed uint64) (*runResult, error) {
	var sel selector
	var w *world
	switch c.method {
	case MethodMeme:
		r, err := p.Factory.NewReputation(p.Config)
		if err != nil {
			return nil, fmt.Errorf("build reputation: %w", err)
		}
		sel = r
	case MethodUniform:
		sel = uniformSelector{}
	case MethodStake:
		sel = stakeSelector{stake: func(id interfaces.StarID) uint64 { return w.stars[w.byID[id]].stake }}
	default:
		return nil, fmt.Errorf("unknown method %q", c.method)
	}
	w = newWorld(p, c, seed, sel)
	return w.run()
}

func aggregate(p *Params, c cell, runs []*runResult, defect int) Row {
	row := Row{Scenario: c.scenario, Byzantine: c.beta, K: c.k, Method: c.method, SybilShare: math.NaN(), NewcomerPicked: math.NaN(), NewcomerAgain: math.NaN(),
		WakePicked: math.NaN(), WakeDelayMedian: -1}
	row.Series = make([]float64, p.Rounds)
	var byz, syb, captured, picked, again float64
	var wakesPicked int
	var delays []int
	for _, r := range runs {
		for i := range p.Rounds {
			row.Series[i] += float64(r.byz[i]) / float64(c.k) / float64(len(runs))
			if i >= p.Warmup {
				byz += float64(r.byz[i])
				syb += float64(r.sybil[i])
			}
		}
		captured += float64(r.captured)
		row.Newcomers += r.newcomers
		picked += float64(r.newcomersPicked)
		again += float64(r.newcomersAgain)
		row.Wakes += r.wakes
		wakesPicked += r.wakesPicked
		delays = append(delays, r.wakeDelays...)
	}
	if row.Wakes > 0 {
		row.WakePicked = float64(wakesPicked) / float64(row.Wakes)
	}
	if len(delays) > 0 {
		slices.Sort(delays)
		row.WakeDelayMedian = delays[(len(delays)-1)/2]
	}
	seats := float64(len(runs)) * float64(p.Rounds-p.Warmup) * float64(c.k)
	row.SeatShare = byz / seats
	if c.scenario == ScenarioSybil {
		row.SybilShare = syb / seats
	}
	row.CapturedRounds = captured / (float64(len(runs)) * float64(p.Rounds-p.Warmup))
	row.Capture100 = CaptureProbability(p.Stars, row.SeatShare, 100)
	if row.Newcomers > 0 {
		row.NewcomerPicked = picked / float64(row.Newcomers)
		row.NewcomerAgain = again / float64(row.Newcomers)
	}
	if c.scenario == ScenarioSleeper {
		row.SleeperHalving = halvingRounds(row.Series, defect)
	}
	return row
}

// halvingRounds returns the rounds after defect (1-based round numbers;
// series index round-1) until the trailing 10-round mean of series is at
// most half the mean of the 200 rounds before defect, or -1.
func halvingRounds(series []float64, defect int) int {
	const before, window = 200, 10
	lo := max(0, defect-1-before)
	var ref float64
	for i := lo; i < defect-1; i++ {
		ref += series[i]
	}
	if defect-1-lo == 0 {
		return -1
	}
	ref /= float64(defect - 1 - lo)
	for i := defect - 1 + window - 1; i < len(series); i++ {
		var m float64
		for j := i - window + 1; j <= i; j++ {
			m += series[j]
		}
		if m/window <= ref/2 {
			return i + 1 - defect
		}
	}
	return -1
}
