package conformance

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// runSample is a recorded run: a failed parent, one pass, one failure with
// two messages (one multi-line, one with XML-hostile characters), one skip.
func runSample() []Result {
	return []Result{
		{Name: "Reputation", Status: Fail, Duration: 3 * time.Millisecond},
		{Name: "Reputation/Determinism", Status: Pass, Duration: time.Millisecond},
		{Name: "Reputation/SnapshotRestore", Status: Fail, Duration: 2 * time.Millisecond, Messages: []string{
			"snapshot differs after restore:\n  got 01\n  want 02",
			"second problem <&> \x01",
		}},
		{Name: "Reputation/SybilGuard", Status: Skip, Messages: []string{`plugin does not claim capability "sybil-flow"`}},
	}
}

func TestTableListsEveryCaseIndentsMessagesAndSummarizes(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, runSample()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"FAIL  Reputation ",
		"PASS  Reputation/Determinism ",
		"FAIL  Reputation/SnapshotRestore",
		"      snapshot differs after restore:\n        got 01\n        want 02\n",
		"SKIP  Reputation/SybilGuard",
		"      plugin does not claim capability \"sybil-flow\"\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "1 passed, 2 failed, 1 skipped" {
		t.Errorf("summary line %q, want %q", last, "1 passed, 2 failed, 1 skipped")
	}
}

func TestTableOfNoResultsIsJustTheSummary(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTable(&b, nil); err != nil {
		t.Fatal(err)
	}
	if b.String() != "0 passed, 0 failed, 0 skipped\n" {
		t.Fatalf("got %q", b.String())
	}
}

func TestJUnitIsWellFormedAndCarriesFailuresAndSkips(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJUnit(&b, "reputation/acme", runSample()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Time    string `xml:"time,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct {
					Message string `xml:"message,attr"`
				} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	// A strict decode of every token proves well-formedness.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("JUnit output is not well formed: %v\n%s", err, b.String())
		}
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("decode JUnit: %v\n%s", err, b.String())
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d suites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "reputation/acme" || s.Tests != 4 || s.Failures != 2 || s.Skipped != 1 {
		t.Errorf("suite attributes = %+v", s)
	}
	byName := map[string]int{}
	for i, c := range s.Cases {
		byName[c.Name] = i
	}
	f := s.Cases[byName["Reputation/SnapshotRestore"]]
	if f.Failure == nil || f.Failure.Message != "snapshot differs after restore:" || !strings.Contains(f.Failure.Text, "second problem <&>") {
		t.Errorf("failure = %+v", f.Failure)
	}
	sk := s.Cases[byName["Reputation/SybilGuard"]]
	if sk.Skipped == nil || !strings.Contains(sk.Skipped.Message, "sybil-flow") {
		t.Errorf("skipped = %+v", sk.Skipped)
	}
	if p := s.Cases[byName["Reputation/Determinism"]]; p.Failure != nil || p.Skipped != nil {
		t.Errorf("passing case carries %+v", p)
	}
}

func TestJSONReportRoundTrips(t *testing.T) {
	results := runSample()
	var b bytes.Buffer
	if err := WriteJSON(&b, results); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Summary Summary `json:"summary"`
		Results []struct {
			Name       string   `json:"name"`
			Status     Status   `json:"status"`
			Messages   []string `json:"messages"`
			DurationNS int64    `json:"duration_ns"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
		t.Fatalf("decode JSON: %v\n%s", err, b.String())
	}
	if rep.Summary != (Summary{Passed: 1, Failed: 2, Skipped: 1}) {
		t.Errorf("summary = %+v", rep.Summary)
	}
	if len(rep.Results) != len(results) {
		t.Fatalf("%d results, want %d", len(rep.Results), len(results))
	}
	for i, r := range rep.Results {
		if r.Name != results[i].Name || r.Status != results[i].Status || len(r.Messages) != len(results[i].Messages) || r.DurationNS != results[i].Duration.Nanoseconds() {
			t.Errorf("result %d = %+v, want %+v", i, r, results[i])
		}
		if r.Messages == nil {
			t.Errorf("result %d: messages is null, want []", i)
		}
	}
}

func TestDurationsAreReadable(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1500 * time.Microsecond: "1.5ms",
		2345 * time.Millisecond: "2.35s",
		1234 * time.Nanosecond:  "1µs",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// The runner reports each case as it finishes, leaves out the groups that
// only hold sub-cases (in progress, counts and tables, but not a group
// that failed by itself), and orders numbers in names numerically.
func TestRunnerStreamsCasesAndCountsOnlyCases(t *testing.T) {
	var streamed []string
	r := &Runner{Progress: func(res Result) { streamed = append(streamed, res.Name) }}
	r.Run("k", func(tb TB) {
		for _, n := range []int{10, 4, 7} {
			tb.Run(fmt.Sprintf("N=%d", n), func(tb TB) {
				if n == 7 {
					tb.Errorf("seven fails")
				}
			})
		}
		tb.Run("own", func(tb TB) {
			tb.Run("inner", func(TB) {})
			tb.Errorf("the group fails by itself")
		})
	})
	if want := []string{"k/N=10", "k/N=4", "k/N=7", "k/own/inner", "k/own"}; !slices.Equal(streamed, want) {
		t.Fatalf("streamed %v, want %v", streamed, want)
	}
	var names []string
	for _, res := range Cases(r.Results()) {
		names = append(names, res.Name)
	}
	if want := []string{"k/N=4", "k/N=7", "k/N=10", "k/own", "k/own/inner"}; !slices.Equal(names, want) {
		t.Fatalf("cases %v, want %v", names, want)
	}
	if s := Summarize(r.Results()); s.Passed != 3 || s.Failed != 2 || s.Skipped != 0 {
		t.Fatalf("summary %v, want 3 passed, 2 failed", s)
	}
}
