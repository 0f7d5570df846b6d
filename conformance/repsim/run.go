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
	// in the Sybil scenario, Sybils); SeatShareCI its 95 % t interval over
	// the seeds' shares (NaN with one seed).
	SeatShare   float64
	SeatShareCI Interval
	// SybilShare is the Sybils' share of seats (NaN outside the Sybil
	// scenario).
	SybilShare float64
	// Captured is what the runs observed: the rounds after warm-up in
	// which attackers held at least ⌈k/3⌉ of the row's k seats, with
	// its Clopper–Pearson interval over the effective number of rounds
	// (pooledProportion). Every capture verdict rests on it.
	Captured Proportion
	// GoodPhase is Captured restricted to the sleeper's good phase
	// (rounds after warm-up and before the defect round), where a patient
	// attacker collects its seats; zero outside the sleeper scenario.
	GoodPhase Proportion
	// CaptureFormula is CaptureProbability(Stars, SeatShare, K): the
	// hypergeometric tail for a committee of K drawn uniformly without
	// replacement from N stars of which a SeatShare fraction attack. It
	// is exact for the uniform draw only: a draw that favours some stars
	// spreads committee make-up more widely than the mean seat share
	// tells, so for any other method it is a reference, not a measurement.
	CaptureFormula float64
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
	// Machine, if set, describes the machine's load when the run started
	// (the CLI records the load average); Section prints it.
	Machine string
	Defect  int // the sleeper scenario's defect round (defectRound)
	Rows    []Row
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
	rep := &Report{Params: p, Defect: defectRound(&p)}
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
	var byz, syb, picked, again float64
	var wakesPicked int
	var delays []int
	var shares []float64
	var capEvents, capTrials, goodEvents, goodTrials []int
	for _, r := range runs {
		var own float64
		ce, ge, gt := 0, 0, 0
		for i := range p.Rounds {
			row.Series[i] += float64(r.byz[i]) / float64(c.k) / float64(len(runs))
			if i < p.Warmup {
				continue
			}
			byz += float64(r.byz[i])
			own += float64(r.byz[i])
			syb += float64(r.sybil[i])
			captured := 3*int(r.byz[i]) >= c.k
			if captured {
				ce++
			}
			if i+1 < defect { // round i+1 precedes the defect round
				gt++
				if captured {
					ge++
				}
			}
		}
		shares = append(shares, own/float64(p.Rounds-p.Warmup)/float64(c.k))
		capEvents, capTrials = append(capEvents, ce), append(capTrials, p.Rounds-p.Warmup)
		goodEvents, goodTrials = append(goodEvents, ge), append(goodTrials, gt)
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
	_, row.SeatShareCI = meanInterval(shares)
	if c.scenario == ScenarioSybil {
		row.SybilShare = syb / seats
	}
	row.Captured = pooledProportion(capEvents, capTrials)
	if c.scenario == ScenarioSleeper {
		row.GoodPhase = pooledProportion(goodEvents, goodTrials)
	}
	row.CaptureFormula = CaptureProbability(p.Stars, row.SeatShare, c.k)
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
