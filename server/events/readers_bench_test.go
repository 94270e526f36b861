package events_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nublado-go/nublado/server/events"
)

// BenchmarkSSEReaders500 holds 500 HTTP clients on one operation's event
// stream for NUBLADO_SSE_BENCH_DURATION (default 60s) while events are
// appended every 100 ms and keep-alive comments go out every second. Half of
// the clients hang up midway, the rest stay until the operation ends. It
// reports the goroutines and live heap left over once every client has
// gone, relative to before they came (both should be ~0), and fails if
// goroutines leak. A one-second warm-up session first fills what net/http
// keeps for good (its maps and pools), so the heap figure is growth proper.
func BenchmarkSSEReaders500(b *testing.B) {
	duration := 60 * time.Second
	if s := os.Getenv("NUBLADO_SSE_BENCH_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("NUBLADO_SSE_BENCH_DURATION: %v", err)
		}
		duration = d
	}
	session(b, time.Second)
	for b.Loop() {
		session(b, duration)
	}
}

func session(b *testing.B, duration time.Duration) {
	const readers = 500
	{
		baseGoroutines, baseHeap := settle()

		q := events.NewQueue()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = events.Serve(w, r, q.Reader(), events.StreamOptions{Ping: time.Second})
		}))
		transport := &http.Transport{MaxIdleConnsPerHost: -1, DisableKeepAlives: true}
		client := &http.Client{Transport: transport}

		var frames, pings atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, readers)
		connected := make(chan struct{}, readers)
		for i := range readers {
			ctx, cancel := context.WithCancel(context.Background())
			if i%2 == 1 {
				// Hangs up halfway through.
				time.AfterFunc(duration/2, cancel)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
				resp, err := client.Do(req)
				connected <- struct{}{}
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					line := sc.Text()
					switch {
					case len(line) > 6 && line[:6] == "event:":
						frames.Add(1)
					case len(line) > 0 && line[0] == ':':
						pings.Add(1)
					}
				}
				if err := sc.Err(); err != nil && ctx.Err() == nil {
					errs <- err
				}
			}()
		}
		for range readers {
			<-connected
		}
		peakGoroutines := runtime.NumGoroutine()
		tick := time.NewTicker(100 * time.Millisecond)
		end := time.After(duration)
		n := 0
	loop:
		for {
			select {
			case <-tick.C:
				n++
				q.Append(info(fmt.Sprintf("Event %d", n), n%100+1))
			case <-end:
				break loop
			}
		}
		tick.Stop()
		q.Close()
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatalf("reader: %v", err)
		}
		transport.CloseIdleConnections()
		srv.Close()

		afterGoroutines, afterHeap := settle()
		if afterGoroutines > baseGoroutines {
			b.Fatalf("goroutines: %d before the readers, %d after they left", baseGoroutines, afterGoroutines)
		}
		b.ReportMetric(float64(n), "events")
		b.ReportMetric(float64(frames.Load())/readers, "frames/reader")
		b.ReportMetric(float64(pings.Load())/readers, "pings/reader")
		b.ReportMetric(float64(peakGoroutines), "peak-goroutines")
		b.ReportMetric(float64(afterGoroutines-baseGoroutines), "leaked-goroutines")
		b.ReportMetric(float64(int64(afterHeap)-int64(baseHeap))/1024, "heap-growth-KiB")
	}
}

// settle waits for goroutines to wind down, collects garbage and returns
// the goroutine count and the live heap.
func settle() (int, uint64) {
	var last int
	for range 50 {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n == last {
			break
		}
		last = n
		time.Sleep(100 * time.Millisecond)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapAlloc
}
