package host

import (
	"errors"
	"fmt"
	"strings"
	"sync"
)

// ErrBadAnswer marks an answer from a plugin that does not decode or breaks
// the interface's rules. The plugin is at fault, not the caller.
var ErrBadAnswer = errors.New("plugin gave a bad answer")

// ErrClosed is returned by calls on a closed plugin or instance.
var ErrClosed = errors.New("closed")

// badAnswer wraps a description of a wrong answer with ErrBadAnswer.
func badAnswer(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadAnswer, fmt.Sprintf(format, args...))
}

// CrashError reports that a plugin process died (or stopped answering).
type CrashError struct {
	Plugin     string // kind/name
	Path       string
	ExitStatus string // as the OS reported it, or "still running" when it hung
	StderrTail []string
	Permanent  bool // no restart will be attempted
	Reason     string
}

func (e *CrashError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin %s (%s) crashed: %s", e.Plugin, e.Path, e.ExitStatus)
	if e.Reason != "" {
		fmt.Fprintf(&b, " (%s)", e.Reason)
	}
	if e.Permanent {
		b.WriteString("; not restarting")
	}
	if len(e.StderrTail) > 0 {
		b.WriteString("; last stderr lines:")
		for _, l := range e.StderrTail {
			b.WriteString("\n    ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// tailBuffer keeps the last lines written to it (the plugin's stderr).
type tailBuffer struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	max     int
}

const maxTailLine = 512

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range p {
		if c == '\n' {
			t.push(string(t.partial))
			t.partial = t.partial[:0]
			continue
		}
		if len(t.partial) < maxTailLine {
			t.partial = append(t.partial, c)
		}
	}
	return len(p), nil
}

func (t *tailBuffer) push(l string) {
	if strings.TrimSpace(l) == "" {
		return
	}
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[len(t.lines)-t.max:]
	}
}

// Tail returns the last lines, including an unterminated one.
func (t *tailBuffer) Tail() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.lines...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}
