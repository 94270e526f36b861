package load

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Summary is the distribution of the successful operations' durations of
// a run, with the count of failures.
type Summary struct {
	N, Failed     int
	P50, P95, P99 time.Duration
	Max           time.Duration
	// Span is from the first request to the last operation's end.
	Span time.Duration
}

// Summarize computes the summary of the Done durations of results.
func Summarize(results []Result) Summary {
	var s Summary
	var ds []time.Duration
	var first, last time.Time
	for _, r := range results {
		s.N++
		if r.Err != nil {
			s.Failed++
			continue
		}
		ds = append(ds, r.Done)
		if first.IsZero() || r.Start.Before(first) {
			first = r.Start
		}
		if end := r.Start.Add(r.Done); end.After(last) {
			last = end
		}
	}
	if len(ds) == 0 {
		return s
	}
	slices.Sort(ds)
	s.P50, s.P95, s.P99 = Percentile(ds, 0.50), Percentile(ds, 0.95), Percentile(ds, 0.99)
	s.Max = ds[len(ds)-1]
	s.Span = last.Sub(first)
	return s
}

// Percentile returns the p-quantile (0 ≤ p ≤ 1) of sorted durations by
// the nearest-rank method: the smallest value with at least p of the
// values at or below it. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)) - 1e-9))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// String formats the summary in milliseconds.
func (s Summary) String() string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("n=%d failed=%d p50=%sms p95=%sms p99=%sms max=%sms span=%sms",
		s.N, s.Failed, ms(s.P50), ms(s.P95), ms(s.P99), ms(s.Max), ms(s.Span))
}
