package events_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

func info(msg string, progress int) nublado.Event {
	return nublado.Event{Type: nublado.EventInfo, Message: msg, Progress: progress}
}

// readAll reads r until the end of its operation.
func readAll(t *testing.T, r *events.Reader) []nublado.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []nublado.Event
	for {
		ev, err := r.Next(ctx)
		if err == io.EOF {
			return got
		}
		require.NoError(t, err, "Next")
		got = append(got, ev)
	}
}

func TestQueueReplayThenLive(t *testing.T) {
	q := events.NewQueue()
	q.Append(info("one", 1))
	r := q.Reader()
	q.Append(info("two", 2))
	done := make(chan []nublado.Event)
	go func() { done <- readAll(t, r) }()
	q.Append(info("three", 3))
	q.Close()
	assert.Equal(t, []nublado.Event{info("one", 1), info("two", 2), info("three", 3)}, <-done)
	// A reader that arrives after Close replays the whole list and ends.
	assert.Equal(t, []nublado.Event{info("one", 1), info("two", 2), info("three", 3)}, readAll(t, q.Reader()))
}

func TestQueueClearEndsReadersAfterQueuedEvents(t *testing.T) {
	q := events.NewQueue()
	q.Append(info("old", 1))
	r := q.Reader()
	q.Clear()
	q.Append(info("new", 1))
	assert.Equal(t, []nublado.Event{info("old", 1)}, readAll(t, r), "old reader")
	r2 := q.Reader()
	q.Close()
	assert.Equal(t, []nublado.Event{info("new", 1)}, readAll(t, r2), "new reader")
	assert.Equal(t, []nublado.Event{info("new", 1)}, q.Events())
}

func TestQueueAppendAfterCloseIsDropped(t *testing.T) {
	q := events.NewQueue()
	q.Append(info("one", 1))
	q.Close()
	q.Close()
	q.Append(info("late", 2))
	assert.Equal(t, []nublado.Event{info("one", 1)}, readAll(t, q.Reader()))
}

func TestReaderWaitsOnFreshQueue(t *testing.T) {
	q := events.NewQueue()
	r := q.Reader()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := r.Next(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	q.Clear()
	_, err = r.Next(context.Background())
	require.ErrorIs(t, err, io.EOF)
}

func TestPoll(t *testing.T) {
	q := events.NewQueue()
	r := q.Reader()
	evs, wait, done := r.Poll()
	assert.Empty(t, evs)
	assert.False(t, done)
	q.Append(info("one", 1))
	select {
	case <-wait:
	case <-time.After(5 * time.Second):
		t.Fatal("Poll: wait channel not closed by Append")
	}
	evs, wait, done = r.Poll()
	assert.Equal(t, []nublado.Event{info("one", 1)}, evs)
	assert.False(t, done)
	q.Close()
	<-wait
	evs, _, done = r.Poll()
	assert.Empty(t, evs)
	assert.True(t, done)
}

// TestConcurrentReaders checks that many readers started at different times
// see the same sequence while a writer appends, and that no reader blocks
// the writer.
func TestConcurrentReaders(t *testing.T) {
	for _, n := range []int{3, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q := events.NewQueue()
			const total = 200
			want := make([]nublado.Event, total)
			for i := range want {
				want[i] = info(fmt.Sprintf("event %d", i), i%100+1)
			}
			var wg sync.WaitGroup
			got := make([][]nublado.Event, n)
			start := make(chan struct{})
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					got[i] = readAll(t, q.Reader())
				}()
			}
			// A stalled reader that never reads must not hold anything up.
			stalled := q.Reader()
			close(start)
			for i, ev := range want {
				q.Append(ev)
				if i%50 == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			q.Close()
			wg.Wait()
			for i := range got {
				require.Equal(t, want, got[i], "reader %d", i)
			}
			evs, _, done := stalled.Poll()
			assert.Equal(t, want, evs)
			assert.True(t, done)
		})
	}
}
