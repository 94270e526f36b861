package fileservers

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// record is what the manager knows about one user's file server (§4.9).
// Records are never removed while the manager runs.
type record struct {
	user string
	// lock is the user's mutex: held by a creation or deletion (a channel,
	// so that waiting for it honours a context).
	lock chan struct{}

	mu sync.Mutex // guards the fields below
	// running is set once a creation succeeded or reconcile adopted a
	// running file server, and cleared by a deletion.
	running bool
	// job is the UID of the running file server's Job: a pod of another
	// Job that ends does not delete this file server.
	job types.UID
	// inProgress is set while a creation or deletion runs.
	inProgress bool
	// lastModified is when the last operation ended.
	lastModified time.Time
	// ending holds the Jobs whose ended pod the watcher's deletion is
	// queued or running for.
	ending map[types.UID]bool
	// changed is closed and replaced whenever the informers see a change
	// of the user's Ingress or pods.
	changed chan struct{}
}

func newRecord(user string) *record {
	return &record{user: user, lock: make(chan struct{}, 1), changed: make(chan struct{}), ending: map[types.UID]bool{}}
}

// acquire takes the user's mutex, or returns ctx's error.
func (r *record) acquire(ctx context.Context) error {
	select {
	case r.lock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tryAcquire takes the user's mutex if it is free.
func (r *record) tryAcquire() bool {
	select {
	case r.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

// release gives the user's mutex back.
func (r *record) release() { <-r.lock }

// begin marks an operation in progress; the caller holds the user's mutex.
func (r *record) begin() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inProgress = true
}

// end marks the end of an operation; the caller holds the user's mutex.
func (r *record) end() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inProgress = false
	r.lastModified = time.Now()
}

// isRunning reports whether the file server is running.
func (r *record) isRunning() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// setRunning records whether the file server runs, and its Job.
func (r *record) setRunning(running bool, job types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.running, r.job = running, job
}

// runningJob returns whether the file server runs, and its Job.
func (r *record) runningJob() (bool, types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running, r.job
}

// modifiedSince reports whether an operation is in progress or ended
// after t.
func (r *record) modifiedSince(t time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inProgress || r.lastModified.After(t)
}

// signal returns a channel that is closed at the next change of the
// user's Ingress or pods.
func (r *record) signal() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// notify wakes the waiters of signal.
func (r *record) notify() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.changed)
	r.changed = make(chan struct{})
}

// startEnding marks the watcher's deletion for an ended pod of job
// queued; false when one already is.
func (r *record) startEnding(job types.UID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ending[job] {
		return false
	}
	r.ending[job] = true
	return true
}

// stopEnding clears the mark of startEnding.
func (r *record) stopEnding(job types.UID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.ending, job)
}
