package events_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

// sseServer serves q's events; every request gets a new reader.
func sseServer(t *testing.T, q *events.Queue, opts events.StreamOptions) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = events.Serve(w, r, q.Reader(), opts)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, ctx context.Context, client *http.Client, url string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err, "GET %s", url)
	return resp
}

func TestServeReplayLiveAndEnd(t *testing.T) {
	q := events.NewQueue()
	q.Append(info("Starting lab creation for rachel", 1))
	srv := sseServer(t, q, events.StreamOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp := get(t, ctx, srv.Client(), srv.URL)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
	br := bufio.NewReader(resp.Body)
	first := readFrame(t, br)
	assert.Equal(t, events.Frame(info("Starting lab creation for rachel", 1)), first)
	q.Append(nublado.Event{Type: nublado.EventComplete, Message: "Lab Kubernetes pod started for rachel"})
	q.Close()
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "event: complete\r\ndata: {\"message\": \"Lab Kubernetes pod started for rachel\"}\r\n\r\n", string(rest))
}

// readFrame reads one frame (up to the blank line).
func readFrame(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err, "reading frame")
		b.WriteString(line)
		if line == "\r\n" {
			return b.String()
		}
	}
}

func TestServePingsWhileIdle(t *testing.T) {
	q := events.NewQueue()
	now := time.Date(2025, 8, 25, 16, 57, 38, 0, time.UTC)
	srv := sseServer(t, q, events.StreamOptions{Ping: 20 * time.Millisecond, Now: func() time.Time { return now }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp := get(t, ctx, srv.Client(), srv.URL)
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	assert.Equal(t, ": ping - 2025-08-25 16:57:38+00:00\r\n\r\n", readFrame(t, br))
	assert.Equal(t, ": ping - 2025-08-25 16:57:38+00:00\r\n\r\n", readFrame(t, br))
	// A new operation ends the stream of a user whose queue never had one.
	q.Clear()
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.NotContains(t, string(rest), "event:")
}

func TestServeEndsWithRequestContext(t *testing.T) {
	q := events.NewQueue()
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	done := make(chan error)
	go func() { done <- events.Serve(w, r, q.Reader(), events.StreamOptions{}) }()
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the request context ended")
	}
}

// TestServeConcurrentReaders has 3 and then 500 HTTP clients read the same
// operation while it runs, plus one client that never reads its body: all
// reading clients get identical streams, the stalled one holds up nobody,
// and once every client has left the goroutine count is back to baseline.
func TestServeConcurrentReaders(t *testing.T) {
	for _, n := range []int{3, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			baseline := runtime.NumGoroutine()
			q := events.NewQueue()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_ = events.Serve(w, r, q.Reader(), events.StreamOptions{Ping: time.Hour})
			}))
			transport := &http.Transport{MaxIdleConnsPerHost: -1, DisableKeepAlives: true}
			client := &http.Client{Transport: transport}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()

			var want strings.Builder
			const total = 300
			evs := make([]nublado.Event, total)
			for i := range evs {
				evs[i] = info(fmt.Sprintf("Event %d: %s", i, strings.Repeat("x", 40)), i%100+1)
				want.WriteString(events.Frame(evs[i]))
			}
			q.Append(evs[0])

			// The stalled client: connected, never reads.
			stalledCtx, stopStalled := context.WithCancel(ctx)
			stalled := get(t, stalledCtx, client, srv.URL)

			var wg sync.WaitGroup
			got := make([]string, n)
			errs := make([]error, n)
			started := make(chan struct{}, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
					resp, err := client.Do(req)
					started <- struct{}{}
					if err != nil {
						errs[i] = err
						return
					}
					defer resp.Body.Close()
					body, err := io.ReadAll(resp.Body)
					got[i], errs[i] = string(body), err
				}()
			}
			for i := 0; i < n; i++ {
				<-started
			}
			for _, ev := range evs[1:] {
				q.Append(ev)
			}
			q.Close()
			wg.Wait()
			for i := range got {
				require.NoError(t, errs[i], "reader %d", i)
				require.Equal(t, want.String(), got[i], "reader %d", i)
			}

			stopStalled()
			stalled.Body.Close()
			transport.CloseIdleConnections()
			srv.Close()
			waitGoroutines(t, baseline)
		})
	}
}

// waitGoroutines waits until no more goroutines run than baseline, and
// dumps them if that does not happen within 10 s.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: baseline %d, now %d:\n%s", baseline, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
