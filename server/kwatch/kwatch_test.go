package kwatch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/nublado-go/nublado/server/kwatch"
)

func TestLifetime(t *testing.T) {
	for _, c := range []struct{ timeout, want time.Duration }{
		{0, 0},
		{400 * time.Millisecond, 400 * time.Millisecond},
		{time.Second, time.Second},
		{1500 * time.Millisecond, time.Second},
		{3 * time.Second, 2 * time.Second},
		{4 * time.Second, 3 * time.Second},
		{20 * time.Second, 18 * time.Second},
		{3 * time.Minute, 162 * time.Second},
		{time.Hour, time.Hour - 30*time.Second},
	} {
		assert.Equal(t, c.want, kwatch.Lifetime(c.timeout), "timeout %s", c.timeout)
	}
}

// stream is a watch request of the tests, shaped like client-go's
// StreamWatcher: it sends what the test puts in events, and when its
// request context ends it sends an error event (as a broken stream does)
// and closes.
type stream struct {
	ctx    context.Context
	opts   metav1.ListOptions
	events chan watch.Event
	result chan watch.Event
	done   chan struct{}
	once   sync.Once
}

func (s *stream) Stop()                          { s.once.Do(func() { close(s.done) }) }
func (s *stream) ResultChan() <-chan watch.Event { return s.result }

func (s *stream) run() {
	defer close(s.result)
	for {
		var ev watch.Event
		select {
		case <-s.done:
			return
		case <-s.ctx.Done():
			ev = watch.Event{Type: watch.Error, Object: &metav1.Status{Status: metav1.StatusFailure, Message: "context canceled"}}
		case e, ok := <-s.events:
			if !ok {
				return
			}
			ev = e
		}
		select {
		case <-s.done:
			return
		case s.result <- ev:
		}
		if ev.Type == watch.Error && s.ctx.Err() != nil {
			return
		}
	}
}

func opener(streams chan<- *stream) kwatch.Func {
	return func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		s := &stream{ctx: ctx, opts: opts, events: make(chan watch.Event, 4), result: make(chan watch.Event), done: make(chan struct{})}
		go s.run()
		streams <- s
		return s, nil
	}
}

func pod(name string) *corev1.Pod { return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}} }

// TestBoundedCut: events pass; after the lifetime the request is cancelled
// and the channel closes without the error event of the cancellation.
func TestBoundedCut(t *testing.T) {
	streams := make(chan *stream, 1)
	timeout := 400 * time.Millisecond
	begin := time.Now() // before the watch starts its lifetime clock
	w, err := kwatch.Bounded(timeout, opener(streams))(context.Background(), metav1.ListOptions{ResourceVersion: "7"})
	require.NoError(t, err)
	s := <-streams
	require.NotNil(t, s.opts.TimeoutSeconds)
	assert.Equal(t, int64(1), *s.opts.TimeoutSeconds, "the server's timeout, rounded up")
	assert.Equal(t, "7", s.opts.ResourceVersion)
	s.events <- watch.Event{Type: watch.Added, Object: pod("a")}
	ev := <-w.ResultChan()
	assert.Equal(t, watch.Added, ev.Type)
	assert.Equal(t, "a", ev.Object.(*corev1.Pod).Name)
	for ev := range w.ResultChan() {
		t.Fatalf("unexpected event after the cut: %v", ev)
	}
	took := time.Since(begin)
	assert.GreaterOrEqual(t, took, kwatch.Lifetime(timeout))
	assert.Less(t, took, 2*timeout, "cut at the lifetime")
	assert.ErrorIs(t, s.ctx.Err(), context.Canceled, "the request is cancelled")
	w.Stop() // after the end: no panic
}

// TestBoundedPassesErrors: an error event of the stream (410 Gone) is
// passed on, and the end of the stream ends the watch.
func TestBoundedPassesErrors(t *testing.T) {
	streams := make(chan *stream, 1)
	w, err := kwatch.Bounded(time.Minute, opener(streams))(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	s := <-streams
	gone := apierrors.NewResourceExpired("too old resource version")
	s.events <- watch.Event{Type: watch.Error, Object: &gone.ErrStatus}
	ev := <-w.ResultChan()
	require.Equal(t, watch.Error, ev.Type)
	assert.True(t, apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)))
	close(s.events)
	_, ok := <-w.ResultChan()
	assert.False(t, ok, "the channel closes when the stream ends")
	assert.Error(t, s.ctx.Err(), "the request is released")
}

// TestBoundedStop: Stop ends the watch and releases the request, even
// while an event waits to be taken.
func TestBoundedStop(t *testing.T) {
	streams := make(chan *stream, 1)
	w, err := kwatch.Bounded(time.Minute, opener(streams))(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	s := <-streams
	s.events <- watch.Event{Type: watch.Added, Object: pod("a")}
	w.Stop()
	w.Stop()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				require.Eventually(t, func() bool { return s.ctx.Err() != nil }, 5*time.Second, time.Millisecond)
				return
			}
		case <-deadline:
			t.Fatal("the channel did not close after Stop")
		}
	}
}

// TestBoundedOpenError: a failed open is returned as is and its context
// released.
func TestBoundedOpenError(t *testing.T) {
	boom := errors.New("boom")
	var got context.Context
	_, err := kwatch.Bounded(time.Minute, func(ctx context.Context, _ metav1.ListOptions) (watch.Interface, error) {
		got = ctx
		return nil, boom
	})(context.Background(), metav1.ListOptions{})
	require.ErrorIs(t, err, boom)
	assert.Error(t, got.Err())
}

// TestBoundedZero: without a timeout the opener is used unchanged.
func TestBoundedZero(t *testing.T) {
	streams := make(chan *stream, 1)
	w, err := kwatch.Bounded(0, opener(streams))(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	s := <-streams
	assert.Nil(t, s.opts.TimeoutSeconds)
	assert.Same(t, s, w)
}

// TestBoundedCutBeforeResponse: a request whose response has not begun
// when the lifetime is over (a stream silenced before its headers) ends
// as a watch that is over, not as an error, which would make the
// reflector back off and list again.
func TestBoundedCutBeforeResponse(t *testing.T) {
	timeout := 400 * time.Millisecond
	begin := time.Now()
	w, err := kwatch.Bounded(timeout, func(ctx context.Context, _ metav1.ListOptions) (watch.Interface, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(begin), kwatch.Lifetime(timeout))
	_, ok := <-w.ResultChan()
	assert.False(t, ok, "the watch is over")
	w.Stop()
}
