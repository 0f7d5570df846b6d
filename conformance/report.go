package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Reports of a conformance run, as `constellation conformance` prints and
// writes them: a table for people, JUnit XML and JSON for CI. All three
// take the Results a Runner recorded (Runner.Results, sorted by name).

// Summary counts results by status.
type Summary struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
}

// Summarize counts results by status.
func Summarize(results []Result) Summary {
	var s Summary
	for _, r := range results {
		if r.Group {
			continue
		}
		switch r.Status {
		case Pass:
			s.Passed++
		case Fail:
			s.Failed++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// Cases returns the results that are cases of their own, without the
// groups (Result.Group).
func Cases(results []Result) []Result {
	out := make([]Result, 0, len(results))
	for _, r := range results {
		if !r.Group {
			out = append(out, r)
		}
	}
	return out
}

// String is the table's last line: "N passed, N failed, N skipped".
func (s Summary) String() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.Passed, s.Failed, s.Skipped)
}

// WriteTable writes one line per case (status, name, duration) with the
// messages of failed and skipped cases indented under it, then the summary
// line.
func WriteTable(w io.Writer, results []Result) error {
	width := 0
	for _, r := range results {
		width = max(width, len(r.Name))
	}
	var b strings.Builder
	for _, r := range results {
		if r.Group {
			continue
		}
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", strings.ToUpper(statusWord(r.Status)), width, r.Name, formatDuration(r.Duration))
		if r.Status == Pass {
			continue
		}
		for _, m := range r.Messages {
			for _, line := range strings.Split(strings.TrimRight(m, "\n"), "\n") {
				b.WriteString("      ")
				b.WriteString(line)
				b.WriteByte('\n')
			}
		}
	}
	b.WriteString(Summarize(results).String())
	b.WriteByte('\n')
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write conformance table: %w", err)
	}
	return nil
}

func statusWord(s Status) string {
	switch s {
	case Pass, Fail, Skip:
		return string(s)
	}
	return "????"
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// JUnit XML, in the shape Jenkins, GitLab and GitHub test reporters read.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteJUnit writes results as one JUnit testsuite named suiteName. A
// failed case carries a <failure> whose message is its first message and
// whose text is all of them; a skipped case carries <skipped> with the
// reason. Groups are left out. Characters XML cannot carry are replaced, so the output is always
// well formed.
func WriteJUnit(w io.Writer, suiteName string, results []Result) error {
	results = Cases(results)
	sum := Summarize(results)
	suite := junitSuite{Name: suiteName, Tests: len(results), Failures: sum.Failed, Skipped: sum.Skipped}
	var total time.Duration
	for _, r := range results {
		total += r.Duration
		c := junitCase{Name: r.Name, Classname: suiteName, Time: seconds(r.Duration)}
		first := ""
		if len(r.Messages) > 0 {
			first, _, _ = strings.Cut(r.Messages[0], "\n")
		}
		switch r.Status {
		case Fail:
			c.Failure = &junitMessage{Message: first, Type: "conformance", Text: strings.Join(r.Messages, "\n")}
		case Skip:
			c.Skipped = &junitMessage{Message: first}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Time = seconds(total)
	doc := junitSuites{Name: suiteName, Tests: suite.Tests, Failures: suite.Failures, Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite}}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, xml.Header+string(out)+"\n"); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}

// jsonReport is the JSON report's shape.
type jsonReport struct {
	Summary Summary      `json:"summary"`
	Results []jsonResult `json:"results"`
}

type jsonResult struct {
	Name       string   `json:"name"`
	Status     Status   `json:"status"`
	Messages   []string `json:"messages"`
	DurationNS int64    `json:"duration_ns"`
}

// WriteJSON writes {"summary": {...}, "results": [{name, status, messages,
// duration_ns}...]}, results in the order given, groups left out.
func WriteJSON(w io.Writer, results []Result) error {
	results = Cases(results)
	rep := jsonReport{Summary: Summarize(results), Results: make([]jsonResult, 0, len(results))}
	for _, r := range results {
		msgs := r.Messages
		if msgs == nil {
			msgs = []string{}
		}
		rep.Results = append(rep.Results, jsonResult{Name: r.Name, Status: r.Status, Messages: msgs, DurationNS: r.Duration.Nanoseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write JSON report: %w", err)
	}
	return nil
}
