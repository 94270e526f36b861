package fileservers_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks measure whole operations on the local control plane; run
// them once each: go test -run '^$' -bench . -benchtime 1x ./server/fileservers/

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkCreate100: 100 users request their file server at the same
// time; every creation must end with the file server ready (Ingress with
// an IP from the Gafaelfawr stand-in, pod Running). Reported: the
// latencies of the creations, the wall time, the API requests of the
// manager per file server (informer lists and watches included), and the
// same for deleting all of them at once.
func BenchmarkCreate100(b *testing.B) {
	const n = 100
	for range b.N {
		h := newHarness(b, harnessOptions{})
		ctx := context.Background()
		requests := h.calls.Total()
		creates := make([]time.Duration, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := time.Now()
		for i := range n {
			wg.Go(func() {
				user := newUser(fmt.Sprintf("bench%03d", i), 5000+int64(i))
				t0 := time.Now()
				errs[i] = h.m.Create(ctx, &user, "")
				creates[i] = time.Since(t0)
			})
		}
		wg.Wait()
		wall := time.Since(start)
		for i, err := range errs {
			require.NoError(b, err, "Create(bench%03d)", i)
		}
		require.Len(b, h.m.Running(ctx), n)
		createRequests := h.calls.Total() - requests

		requests = h.calls.Total()
		deletes := make([]time.Duration, n)
		start = time.Now()
		for i := range n {
			wg.Go(func() {
				t0 := time.Now()
				errs[i] = h.m.Delete(ctx, fmt.Sprintf("bench%03d", i))
				deletes[i] = time.Since(t0)
			})
		}
		wg.Wait()
		deleteWall := time.Since(start)
		for i, err := range errs {
			require.NoError(b, err, "Delete(bench%03d)", i)
		}
		require.Empty(b, h.m.Running(ctx))
		deleteRequests := h.calls.Total() - requests

		for _, phase := range []struct{ msg, unit string }{
			{"File server objects applied", "applied-p95-ms"},
			{"File server Ingress ready", "ingress-p95-ms"},
		} {
			b.ReportMetric(ms(percentile(h.log.durations(phase.msg), 0.95)), phase.unit)
		}
		b.ReportMetric(ms(percentile(creates, 0.5)), "create-p50-ms")
		b.ReportMetric(ms(percentile(creates, 0.95)), "create-p95-ms")
		b.ReportMetric(ms(percentile(creates, 1)), "create-max-ms")
		b.ReportMetric(wall.Seconds(), "create-wall-s")
		b.ReportMetric(float64(createRequests)/n, "create-requests/fs")
		b.ReportMetric(ms(percentile(deletes, 0.95)), "delete-p95-ms")
		b.ReportMetric(deleteWall.Seconds(), "delete-wall-s")
		b.ReportMetric(float64(deleteRequests)/n, "delete-requests/fs")
		b.Logf("API requests of the creations: %v", h.calls.Snapshot())
	}
}
