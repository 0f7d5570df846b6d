package host

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// replayFn re-applies one recorded input to a fresh instance id in proc.
// Outputs are discarded: they were acted on when the input was first
// accepted.
type replayFn func(ctx context.Context, proc *process, id uint64) error

// handle is the host's record of one instance living in a plugin process.
// It knows how to create the instance again and keeps a journal of the
// state-changing inputs the instance accepted since it was created, so that
// after a crash a new process can be brought to the same state. Calls are
// serialized by mu, which matches the single-goroutine contract of the
// consensus, reputation and partitioner interfaces.
type handle struct {
	p    *Plugin
	what string // for messages, e.g. "consensus instance"

	create  func(ctx context.Context, proc *process) (uint64, error)
	destroy func(ctx context.Context, proc *process, id uint64) error

	mu           sync.Mutex
	proc         *process // the process id lives in
	id           uint64
	journal      []replayFn
	journalBytes int
	// unreplayable is set when the journal outgrew its bound; a crash is
	// then permanent for this instance.
	unreplayable bool
	broken       error // sticky: the instance can no longer be trusted
	closed       bool
}

// newHandle creates the instance in the current process.
func newHandle(p *Plugin, what string, create func(context.Context, *process) (uint64, error), destroy func(context.Context, *process, uint64) error) (*handle, error) {
	h := &handle{p: p, what: what, create: create, destroy: destroy}
	err := h.call(context.Background(), "create", func(context.Context, *process, uint64) error { return nil }, nil, 0)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// closeWhenUnreachable arranges for the plugin-side instance behind h to be
// released when owner (the value handed to the kernel) is garbage
// collected without having been closed. h must not reference owner.
func closeWhenUnreachable[T any](owner *T, h *handle) {
	runtime.AddCleanup(owner, func(h *handle) { go h.close() }, h)
}

// ctx returns a context bounded by the plugin's call timeout.
func (h *handle) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	if _, ok := parent.Deadline(); ok {
		return context.WithCancel(parent)
	}
	return context.WithTimeout(parent, h.p.opts.CallTimeout)
}

// call runs fn against the instance, rebuilding it first if the process was
// restarted, and restarting the process (then retrying) if fn fails because
// it crashed. On success rec, if non-nil, is appended to the journal; size
// is its approximate cost in bytes.
func (h *handle) call(parent context.Context, op string, fn func(ctx context.Context, proc *process, id uint64) error, rec replayFn, size int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("plugin %s: %s: %s %w", h.p.label, op, h.what, ErrClosed)
	}
	if h.broken != nil {
		return h.broken
	}
	// Each iteration either returns or consumes one restart, which
	// Plugin.restart bounds; the explicit cap keeps the loop bounded even if
	// that accounting changes.
	for attempt := 0; attempt <= h.p.opts.MaxRestarts+1; attempt++ {
		if err := parent.Err(); err != nil {
			return fmt.Errorf("plugin %s: %s: %w", h.p.label, op, err)
		}
		proc, err := h.p.current()
		if err != nil {
			return err
		}
		if proc == nil {
			return fmt.Errorf("plugin %s: %s: no running process", h.p.label, op)
		}
		if h.proc != proc {
			if err := h.rebuild(parent, proc); err != nil {
				if h.p.crashed(proc, err) && parent.Err() == nil {
					if rerr := h.p.restart(proc, err); rerr != nil {
						return rerr
					}
					continue
				}
				return err
			}
		}
		ctx, cancel := h.ctx(parent)
		err = fn(ctx, proc, h.id)
		cancel()
		if err == nil {
			h.record(rec, size)
			return nil
		}
		if parent.Err() != nil {
			return fmt.Errorf("plugin %s: %s: %w", h.p.label, op, parent.Err())
		}
		if errors.Is(err, ErrBadAnswer) || !h.p.crashed(proc, err) {
			return h.callError(op, err)
		}
		if rerr := h.p.restart(proc, err); rerr != nil {
			return rerr
		}
	}
	return fmt.Errorf("plugin %s: %s: gave up after %d restarts", h.p.label, op, h.p.opts.MaxRestarts)
}

// callError describes an error returned by the plugin (not a crash).
func (h *handle) callError(op string, err error) error {
	if errors.Is(err, ErrBadAnswer) {
		return fmt.Errorf("plugin %s: %s: %w", h.p.label, op, err)
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("plugin %s: %s: %w", h.p.label, op, err)
	}
	switch st.Code() {
	case codes.Internal:
		return fmt.Errorf("plugin %s: %s: %w: %s", h.p.label, op, ErrBadAnswer, st.Message())
	case codes.NotFound:
		return fmt.Errorf("plugin %s: %s: the plugin lost the %s: %s", h.p.label, op, h.what, st.Message())
	}
	return fmt.Errorf("plugin %s: %s: %w", h.p.label, op, &PluginError{Code: st.Code().String(), Message: st.Message()})
}

// PluginError is an error the plugin's implementation returned (for
// example "proposed twice in one epoch").
type PluginError struct {
	Code    string
	Message string
}

func (e *PluginError) Error() string { return e.Message }

// rebuild creates the instance in proc and replays the journal into it.
func (h *handle) rebuild(parent context.Context, proc *process) error {
	if h.proc != nil && h.unreplayable {
		h.broken = fmt.Errorf("plugin %s: the %s was lost in a crash and its history exceeded the %d-byte replay journal", h.p.label, h.what, h.p.opts.MaxJournalBytes)
		return h.broken
	}
	ctx, cancel := h.ctx(parent)
	id, err := h.create(ctx, proc)
	cancel()
	if err != nil {
		if h.p.crashed(proc, err) {
			return err
		}
		if h.proc != nil {
			h.broken = fmt.Errorf("plugin %s: recreate the %s after a restart: %w", h.p.label, h.what, err)
			return h.broken
		}
		return h.callError("create "+h.what, err)
	}
	start := time.Now()
	for i, r := range h.journal {
		ctx, cancel := h.ctx(parent)
		err := r(ctx, proc, id)
		cancel()
		if err != nil {
			if h.p.crashed(proc, err) {
				return err
			}
			h.broken = fmt.Errorf("plugin %s: replay input %d of %d into the restarted %s diverged: %w", h.p.label, i+1, len(h.journal), h.what, err)
			return h.broken
		}
	}
	if len(h.journal) > 0 {
		h.p.log.Info("replayed inputs into a restarted instance", "instance", h.what, "inputs", len(h.journal), "took", time.Since(start).String())
	}
	h.proc, h.id = proc, id
	return nil
}

// record appends a replay step to the journal, or marks the instance
// unreplayable once the journal exceeds its bound.
func (h *handle) record(rec replayFn, size int) {
	if rec == nil || h.unreplayable {
		return
	}
	h.journalBytes += size + 64
	if h.journalBytes > h.p.opts.MaxJournalBytes {
		h.unreplayable = true
		h.journal = nil
		h.p.log.Warn("replay journal full: a crash will now be permanent for this instance", "instance", h.what, "bytes", h.journalBytes)
		return
	}
	h.journal = append(h.journal, rec)
}

// resetJournal replaces the journal with one step (used after Restore,
// which replaces the whole state).
func (h *handle) resetJournal(rec replayFn, size int) {
	h.journal, h.journalBytes, h.unreplayable = nil, 0, false
	h.record(rec, size)
}

// fail marks the instance as no longer trustworthy after a wrong answer
// and returns err for the current call.
func (h *handle) fail(err error) error {
	h.broken = fmt.Errorf("plugin %s: the %s gave a wrong answer earlier and cannot be trusted: %w", h.p.label, h.what, err)
	return err
}

// close destroys the plugin-side instance; later calls fail with ErrClosed.
func (h *handle) close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	h.journal = nil
	proc, err := h.p.current()
	if err != nil || proc == nil || proc != h.proc {
		return nil // the instance died with its process
	}
	ctx, cancel := h.ctx(context.Background())
	defer cancel()
	if err := h.destroy(ctx, proc, h.id); err != nil && !h.p.crashed(proc, err) {
		return h.callError("close "+h.what, err)
	}
	return nil
}
