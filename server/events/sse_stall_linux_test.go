package events_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/server/events"
)

// smallBufferClient returns a client whose sockets have a 4 KiB receive
// buffer (no autotuning), so that a server writing to it while it does not
// read blocks once its own send buffer is full.
func smallBufferClient() (*http.Client, *http.Transport) {
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	tr := &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}
	return &http.Client{Transport: tr}, tr
}

// TestServeStalledClient streams more than the socket buffers hold to a
// client that never reads, so that its handler is stuck in a write, while
// the writer appends and other clients read everything.
func TestServeStalledClient(t *testing.T) {
	baseline := runtime.NumGoroutine()
	q := events.NewQueue()
	var served atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer served.Add(1)
		_ = events.Serve(w, r, q.Reader(), events.StreamOptions{Ping: time.Hour})
	}))
	stalledClient, stalledTransport := smallBufferClient()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	stalledCtx, stopStalled := context.WithCancel(ctx)
	stalled := get(t, stalledCtx, stalledClient, srv.URL)

	const total = 1000 // about 8 MB of frames, twice the largest send buffer
	payload := strings.Repeat("y", 8000)
	var want int64
	start := time.Now()
	for i := 0; i < total; i++ {
		ev := info(payload, i%100+1)
		q.Append(ev)
		want += int64(len(events.Frame(ev)))
	}
	q.Close()
	require.Less(t, time.Since(start), 10*time.Second, "the writer was held up")

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := get(t, ctx, client, srv.URL)
			defer resp.Body.Close()
			n, err := io.Copy(io.Discard, resp.Body)
			assert.NoError(t, err, "reader %d", i)
			assert.Equal(t, want, n, "reader %d bytes", i)
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return served.Load() == 3 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, int32(3), served.Load(), "the stalled stream is still blocked in a write")

	stopStalled()
	stalled.Body.Close()
	stalledTransport.CloseIdleConnections()
	srv.Close()
	assert.Equal(t, int32(4), served.Load(), "the stalled stream ended with its client")
	waitGoroutines(t, baseline)
}
