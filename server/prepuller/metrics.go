package prepuller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/nublado-go/nublado/server/metrics"
)

// Metrics are the prepuller's Prometheus collectors (decision D15). All
// methods do nothing on a nil *Metrics.
type Metrics struct {
	// Prepulls counts finished prepulls by outcome
	// (nublado_prepulls_total): success when the pod succeeded, failure
	// otherwise. Prepulls abandoned because their node went away are not
	// counted.
	Prepulls *prometheus.CounterVec
	// PrepullDuration is the time from creating a prepull pod to its end,
	// by outcome (nublado_prepull_duration_seconds).
	PrepullDuration *prometheus.HistogramVec
	// RoundDuration is the duration of prepull rounds
	// (nublado_prepull_round_duration_seconds).
	RoundDuration prometheus.Histogram
	// Refreshes counts image refreshes (nodes and registry) by outcome
	// (nublado_image_refreshes_total): success when the catalog was
	// replaced, failure when it was kept because a read failed. Refreshes
	// cut short by the end of their context are not counted.
	Refreshes *prometheus.CounterVec
}

// prepullBuckets cover a prepull: a fraction of a second for a cached
// image to the default ten-minute prepull timeout.
var prepullBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600}

// NewMetrics creates the collectors and registers them on reg; it panics
// if one is already registered there, like prometheus.MustRegister.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	outcome := []string{"outcome"}
	m := &Metrics{
		Prepulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "prepulls_total",
			Help: "Finished image prepulls (one pod on one node) by outcome.",
		}, outcome),
		PrepullDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Name: "prepull_duration_seconds",
			Help:    "Duration of image prepulls by outcome.",
			Buckets: prepullBuckets,
		}, outcome),
		RoundDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: metrics.Namespace, Name: "prepull_round_duration_seconds",
			Help:    "Duration of prepull rounds over every eligible node.",
			Buckets: prepullBuckets,
		}),
		Refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: metrics.Namespace, Name: "image_refreshes_total",
			Help: "Image refreshes (nodes and registry) by outcome.",
		}, outcome),
	}
	reg.MustRegister(m.Prepulls, m.PrepullDuration, m.RoundDuration, m.Refreshes)
	for _, o := range []string{metrics.Success, metrics.Failure} {
		m.Prepulls.WithLabelValues(o)
		m.Refreshes.WithLabelValues(o)
	}
	return m
}

// prepulled records one finished prepull.
func (m *Metrics) prepulled(ok bool, d time.Duration) {
	if m == nil {
		return
	}
	o := metrics.Failure
	if ok {
		o = metrics.Success
	}
	m.Prepulls.WithLabelValues(o).Inc()
	m.PrepullDuration.WithLabelValues(o).Observe(d.Seconds())
}

// round records one finished round.
func (m *Metrics) round(d time.Duration) {
	if m == nil {
		return
	}
	m.RoundDuration.Observe(d.Seconds())
}

// refreshed records one finished image refresh.
func (m *Metrics) refreshed(ok bool) {
	if m == nil {
		return
	}
	o := metrics.Failure
	if ok {
		o = metrics.Success
	}
	m.Refreshes.WithLabelValues(o).Inc()
}
