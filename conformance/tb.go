package conformance

import (
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// TB is what a conformance case may use of its test context. *testing.T
// satisfies it through FromTesting; the CLI satisfies it with Runner.
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
	Failed() bool
	// Run runs a named sub-case and reports whether it passed.
	Run(name string, f func(t TB)) bool
	// Short reports whether only the quick cases are wanted.
	Short() bool
}

// FromTesting adapts a *testing.T.
func FromTesting(t *testing.T) TB { return testingTB{t} }

type testingTB struct{ *testing.T }

func (t testingTB) Run(name string, f func(TB)) bool {
	return t.T.Run(name, func(tt *testing.T) { f(testingTB{tt}) })
}

func (t testingTB) Short() bool { return testing.Short() }

// Status is the outcome of one case.
type Status string

const (
	Pass Status = "pass"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Result is one case's outcome as the Runner records it.
type Result struct {
	Name     string // slash-separated path of sub-case names
	Status   Status
	Messages []string // errors, or the skip reason
	Duration time.Duration
	// Group marks a case that only grouped sub-cases (it ran some and
	// reported nothing of its own): its status is theirs, and counts and
	// tables leave it out.
	Group bool
}

// Runner runs suites outside `go test` and records a Result per case.
type Runner struct {
	ShortMode bool
	// Progress, when set, is told of each case as it finishes (groups
	// excluded), so a long run shows where it is.
	Progress func(Result)

	mu      sync.Mutex
	results []Result
}

// Results returns the recorded results, sorted by name.
func (r *Runner) Results() []Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]Result(nil), r.results...)
	sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i].Name, out[j].Name) })
	return out
}

// naturalLess orders names with their runs of digits compared as numbers,
// so that N=4 comes before N=10.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digits(a), digits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digits returns the length of s's leading run of ASCII digits.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// Failed reports whether any case failed.
func (r *Runner) Failed() bool {
	for _, res := range r.Results() {
		if res.Status == Fail {
			return true
		}
	}
	return false
}

// Run runs f as a top-level case named name.
func (r *Runner) Run(name string, f func(TB)) bool {
	return r.run(name, f)
}

type stopCase struct{}

func (r *Runner) run(name string, f func(TB)) bool {
	c := &runnerTB{r: r, name: name}
	start := time.Now()
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopCase); !ok {
					c.failed = true
					c.msgs = append(c.msgs, fmt.Sprintf("panic: %v\n%s", v, debug.Stack()))
				}
			}
		}()
		f(c)
	}()
	st := Pass
	switch {
	case c.failed || c.subFail:
		st = Fail
	case c.skipped:
		st = Skip
	}
	res := Result{Name: name, Status: st, Messages: c.msgs, Duration: time.Since(start), Group: c.hasSub && len(c.msgs) == 0}
	r.mu.Lock()
	r.results = append(r.results, res)
	progress := r.Progress
	r.mu.Unlock()
	if progress != nil && !res.Group {
		progress(res)
	}
	return !c.failed
}

type runnerTB struct {
	r       *Runner
	name    string
	failed  bool
	skipped bool
	msgs    []string
	subFail bool
	hasSub  bool
}

func (c *runnerTB) Helper() {}

func (c *runnerTB) Logf(string, ...any) {}

func (c *runnerTB) Errorf(format string, args ...any) {
	c.failed = true
	c.msgs = append(c.msgs, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func (c *runnerTB) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(stopCase{})
}

func (c *runnerTB) Skipf(format string, args ...any) {
	c.skipped = true
	c.msgs = append(c.msgs, strings.TrimSpace(fmt.Sprintf(format, args...)))
	panic(stopCase{})
}

func (c *runnerTB) Failed() bool { return c.failed || c.subFail }

func (c *runnerTB) Run(name string, f func(TB)) bool {
	c.hasSub = true
	ok := c.r.run(c.name+"/"+name, f)
	if !ok {
		c.subFail = true
	}
	return ok
}

func (c *runnerTB) Short() bool { return c.r.ShortMode }
