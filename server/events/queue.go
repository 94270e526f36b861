package events

import (
	"context"
	"io"
	"sync"

	nublado "github.com/nublado-go/nublado"
)

// Queue is a multi-reader, append-only list of events for one user. The
// zero value is not usable; call [NewQueue]. A Queue is safe for concurrent
// use by one or more writers and any number of readers.
type Queue struct {
	mu  sync.Mutex
	gen *generation
}

// generation is the event list of one operation.
type generation struct {
	mu     sync.RWMutex
	items  []nublado.Event
	ended  bool
	notify chan struct{} // closed and replaced on every change
}

func newGeneration() *generation {
	return &generation{notify: make(chan struct{})}
}

// NewQueue returns an empty, open queue. Readers of a queue nothing was
// ever written to wait until the first Clear or Close.
func NewQueue() *Queue { return &Queue{gen: newGeneration()} }

func (q *Queue) current() *generation {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.gen
}

// Append adds an event and wakes the readers. It never blocks on readers.
// An event appended after Close is dropped (readers may already have
// finished); start a new operation with Clear.
func (q *Queue) Append(ev nublado.Event) {
	g := q.current()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return
	}
	g.items = append(g.items, ev)
	close(g.notify)
	g.notify = make(chan struct{})
}

// Close marks the end of the current operation: readers finish once they
// have read every event. New readers replay the closed list and finish.
// Closing twice is harmless.
func (q *Queue) Close() { q.current().end() }

// Clear ends every existing reader (after the events queued so far) and
// starts a new, empty and open list for the next operation.
func (q *Queue) Clear() {
	q.mu.Lock()
	old := q.gen
	q.gen = newGeneration()
	q.mu.Unlock()
	old.end()
}

// Events returns a copy of the current operation's events.
func (q *Queue) Events() []nublado.Event {
	g := q.current()
	g.mu.RLock()
	defer g.mu.RUnlock()
	return append([]nublado.Event(nil), g.items...)
}

func (g *generation) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ended {
		return
	}
	g.ended = true
	close(g.notify)
}

// Reader returns a reader positioned at the first event of the current
// operation.
func (q *Queue) Reader() *Reader { return &Reader{gen: q.current()} }

// Reader reads one generation of a [Queue] from its start. A Reader is used
// by one goroutine.
type Reader struct {
	gen  *generation
	next int
}

// Poll returns, without blocking, the events appended since the last call
// (nil if none), a channel that is closed as soon as there is more to read
// or the operation ends, and done = true once the operation has ended and
// every event was returned. The returned slice must not be modified.
func (r *Reader) Poll() (events []nublado.Event, wait <-chan struct{}, done bool) {
	g := r.gen
	g.mu.RLock()
	defer g.mu.RUnlock()
	n := len(g.items)
	if r.next < n {
		events = g.items[r.next:n:n]
		r.next = n
	}
	return events, g.notify, g.ended && r.next == n
}

// Next blocks until the next event and returns it. It returns [io.EOF] once
// the operation has ended and every event was read, and ctx's error if ctx
// ends first.
func (r *Reader) Next(ctx context.Context) (nublado.Event, error) {
	for {
		g := r.gen
		g.mu.RLock()
		if r.next < len(g.items) {
			ev := g.items[r.next]
			r.next++
			g.mu.RUnlock()
			return ev, nil
		}
		ended, wait := g.ended, g.notify
		g.mu.RUnlock()
		if ended {
			return nublado.Event{}, io.EOF
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nublado.Event{}, ctx.Err()
		}
	}
}
