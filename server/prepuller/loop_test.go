package prepuller_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/server/prepuller"
)

// calls records when fn was called.
type calls struct {
	mu    sync.Mutex
	times []time.Time
}

func (c *calls) add() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.times = append(c.times, time.Now())
	return len(c.times)
}

func (c *calls) get() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Time(nil), c.times...)
}

func runLoop(t *testing.T, interval time.Duration, fn func(context.Context) error) (*test.Hook, func()) {
	t.Helper()
	log, hook := test.NewNullLogger()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		prepuller.RunLoop(ctx, interval, "refreshing image data", logrus.NewEntry(log), fn)
		close(done)
	}()
	stop := func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("RunLoop did not return after its context ended")
		}
	}
	t.Cleanup(stop)
	return hook, stop
}

// TestRunLoopSchedule: the first call comes one interval after start,
// errors are logged and the loop goes on.
func TestRunLoopSchedule(t *testing.T) {
	const interval = 100 * time.Millisecond
	var c calls
	start := time.Now()
	hook, stop := runLoop(t, interval, func(context.Context) error {
		if c.add() == 2 {
			return errors.New("registry down")
		}
		return nil
	})
	require.Eventually(t, func() bool { return len(c.get()) >= 4 }, 5*time.Second, 10*time.Millisecond)
	stop()
	times := c.get()
	assert.GreaterOrEqual(t, times[0].Sub(start), interval, "first call one interval after start")
	for i := 1; i < len(times); i++ {
		assert.GreaterOrEqual(t, times[i].Sub(times[i-1]), interval-5*time.Millisecond, "gap before call %d", i+1)
	}
	var errs []string
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel {
			errs = append(errs, e.Message)
			assert.EqualError(t, e.Data[logrus.ErrorKey].(error), "registry down")
		}
	}
	assert.Equal(t, []string{"Uncaught exception refreshing image data"}, errs)
}

// TestRunLoopContinuous: a call that outlasts the interval logs a warning
// and the next one starts at once.
func TestRunLoopContinuous(t *testing.T) {
	const interval = 50 * time.Millisecond
	var c calls
	hook, stop := runLoop(t, interval, func(ctx context.Context) error {
		if c.add() == 1 {
			time.Sleep(3 * interval)
		}
		return nil
	})
	require.Eventually(t, func() bool { return len(c.get()) >= 2 }, 5*time.Second, 5*time.Millisecond)
	stop()
	times := c.get()
	assert.Less(t, times[1].Sub(times[0]), 3*interval+interval/2, "second call right after the long first one")
	var warnings []string
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.WarnLevel {
			warnings = append(warnings, e.Message)
		}
	}
	assert.Contains(t, warnings, "Refreshing image data is running continuously")
}

// TestRunLoopCancelledCall: ending the context during a call ends the
// loop without logging the call's error.
func TestRunLoopCancelledCall(t *testing.T) {
	entered := make(chan struct{})
	hook, stop := runLoop(t, time.Millisecond, func(ctx context.Context) error {
		close(entered)
		<-ctx.Done()
		return ctx.Err()
	})
	<-entered
	stop()
	assert.Empty(t, hook.AllEntries())
}
