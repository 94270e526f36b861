package labs

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

// opKind is the kind of a lab operation. The monitoring of a lab found
// pending by reconcile is a spawn.
type opKind string

const (
	opSpawn  opKind = "spawn"
	opDelete opKind = "delete"
)

// operation is a spawn or delete in progress.
type operation struct {
	kind    opKind
	cancel  context.CancelCauseFunc
	done    chan struct{} // closed when the operation has finished
	err     error         // the outcome, set before done is closed
	started time.Time
}

// record is what the manager knows about one user (§4.2). Records are
// never removed while the manager runs.
type record struct {
	user   string
	events *events.Queue

	mu    sync.Mutex // guards the fields below
	state *nublado.LabState
	op    *operation // nil when no operation is in progress
	// lastModified is when the last operation ended.
	lastModified time.Time
	// podNotify is closed and replaced whenever the informer sees a change
	// of the user's lab pod.
	podNotify chan struct{}
}

func newRecord(user string) *record {
	return &record{user: user, events: events.NewQueue(), podNotify: make(chan struct{})}
}

// status returns the lab status, "" when there is no lab.
func (r *record) status() nublado.LabStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == nil {
		return ""
	}
	return r.state.Status
}

// update calls fn with the state under the record's lock, if there is one.
func (r *record) update(fn func(s *nublado.LabState)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != nil {
		fn(r.state)
	}
}

// modifiedSince reports whether an operation is in progress or ended after
// t; the caller holds the lock.
func (r *record) modifiedSince(t time.Time) bool {
	return r.op != nil || r.lastModified.After(t)
}

// podSignal returns a channel that is closed at the next change of the
// user's pod.
func (r *record) podSignal() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.podNotify
}

// notifyPod wakes the waiters of podSignal; the caller holds the lock.
func (r *record) notifyPod() {
	close(r.podNotify)
	r.podNotify = make(chan struct{})
}

// cloneState returns a deep copy of s.
func cloneState(s *nublado.LabState) *nublado.LabState {
	c := *s
	c.User.Groups = slices.Clone(s.User.Groups)
	if c.User.Groups == nil {
		c.User.Groups = []nublado.Group{}
	}
	if s.User.Name != nil {
		name := *s.User.Name
		c.User.Name = &name
	}
	if s.InternalURL != nil {
		u := *s.InternalURL
		c.InternalURL = &u
	}
	if s.Quota != nil {
		q := *s.Quota
		c.Quota = &q
	}
	return &c
}

// opSpec describes an operation to start.
type opSpec struct {
	kind    opKind
	timeout time.Duration
	// timeoutErr is the cause of the operation's context when the timeout
	// expires.
	timeoutErr error
	// run does the work.
	run func(ctx context.Context) error
	// finish is called with run's result under the record's lock, and
	// before the operation is cleared and its event queue closed: it
	// appends the last events and sets the status. Its result is the
	// outcome that waiters of the operation get.
	finish func(ctx context.Context, err error) error
}

// begin starts an operation on rec, whose lock the caller holds and which
// has no operation in progress: it clears the event queue and runs the
// operation in a goroutine under the manager's lifetime (not under the
// caller's context). It returns errNotStarted when the manager is not
// running.
func (m *Manager) begin(rec *record, spec opSpec) (*operation, error) {
	life, err := m.track()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(life)
	tctx, tcancel := context.WithTimeoutCause(ctx, spec.timeout, spec.timeoutErr)
	op := &operation{kind: spec.kind, cancel: cancel, done: make(chan struct{}), started: time.Now()}
	rec.op = op
	rec.events.Clear()
	go func() {
		defer m.ops.Done()
		defer close(op.done)
		defer cancel(nil)
		defer tcancel()
		err := m.protect(rec, spec.kind, func() error { return spec.run(tctx) })
		rec.mu.Lock()
		defer rec.mu.Unlock()
		op.err = spec.finish(tctx, err)
		rec.op = nil
		rec.lastModified = time.Now()
		rec.events.Close()
	}()
	return op, nil
}

// track returns the manager's lifetime and counts one more running
// operation, or returns errNotStarted.
func (m *Manager) track() (context.Context, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.life == nil || m.life.Err() != nil {
		return nil, errNotStarted
	}
	m.ops.Add(1)
	return m.life, nil
}

// protect runs fn, turning a panic into an error (the spec's spawn reaper:
// an unexpected exception fails the operation) and logging it.
func (m *Manager) protect(rec *record, kind opKind, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("unexpected panic: %v", p)
			m.log.WithFields(logrus.Fields{FieldUser: rec.user, "stack": string(debug.Stack())}).
				WithError(err).Errorf("Uncaught exception in lab %s", kind)
		}
	}()
	return fn()
}

// wait waits until op has finished and returns its outcome, or returns
// ctx's error when ctx ends first (the operation goes on).
func wait(ctx context.Context, op *operation) error {
	select {
	case <-op.done:
		return op.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// emit appends an event to the user's queue and logs it.
func (m *Manager) emit(rec *record, typ nublado.EventType, msg string, progress int) {
	rec.events.Append(nublado.Event{Type: typ, Message: msg, Progress: progress})
	entry := m.log.WithFields(logrus.Fields{FieldUser: rec.user, FieldEvent: string(typ)})
	if progress > 0 {
		entry = entry.WithField(FieldProgress, progress)
	}
	switch typ {
	case nublado.EventError, nublado.EventFailed:
		entry.Warn(msg)
	default:
		entry.Info(msg)
	}
}

// info emits an info event.
func (m *Manager) info(rec *record, msg string, progress int) {
	m.emit(rec, nublado.EventInfo, msg, progress)
}
