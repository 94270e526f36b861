// Package metrics defines the controller's Prometheus metrics (decision
// D15), which replace the original's Safir events: active labs, spawn
// successes and failures with their durations, lab deletions, file-server
// creations and deletions, and the latency of Kubernetes API calls. The
// managers update them through the methods of [Metrics]; the HTTP server
// exposes the registry at /metrics.
//
// All methods are safe for concurrent use and do nothing on a nil
// *Metrics, so a manager built without metrics needs no special case.
package metrics

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace prefixes every metric name.
const Namespace = "nublado"

// Outcomes, the value of the outcome label.
const (
	Success = "success"
	Failure = "failure"
)

// Metrics are the controller's collectors.
type Metrics struct {
	// ActiveLabs is the number of running labs after the last reconcile
	// (nublado_active_labs; Safir's active_labs event).
	ActiveLabs prometheus.Gauge
	// Spawns counts finished spawn operations by outcome
	// (nublado_lab_spawns_total; spawn_success and spawn_failure).
	Spawns *prometheus.CounterVec
	// SpawnDuration is the time from the start of a spawn operation to
	// its end, by outcome (nublado_lab_spawn_duration_seconds).
	SpawnDuration *prometheus.HistogramVec
	// Deletes counts finished lab deletions by outcome
	// (nublado_lab_deletes_total).
	Deletes *prometheus.CounterVec
	// DeleteDuration is the duration of lab deletions by outcome
	// (nublado_lab_delete_duration_seconds).
	DeleteDuration *prometheus.HistogramVec
	// FileServers is the number of running file servers
	// (nublado_file_servers).
	FileServers prometheus.Gauge
	// FileServerCreates counts file-server creations by outcome
	// (nublado_file_server_creates_total).
	FileServerCreates *prometheus.CounterVec
	// FileServerDeletes counts file-server deletions by outcome
	// (nublado_file_server_deletes_total).
	FileServerDeletes *prometheus.CounterVec
	// KubernetesRequests is the latency of Kubernetes API requests by verb
	// and resource (nublado_kubernetes_request_duration_seconds).
	KubernetesRequests *prometheus.HistogramVec
	// KubernetesResults counts finished Kubernetes API requests, watches
	// included, by HTTP method and status code
	// (nublado_kubernetes_requests_total).
	KubernetesResults *prometheus.CounterVec
	// RateLimiterWait is how long Kubernetes API requests waited for the
	// client-side rate limiter, by verb and resource
	// (nublado_kubernetes_rate_limiter_duration_seconds): the sign that the
	// client QPS and burst are too low for the load.
	RateLimiterWait *prometheus.HistogramVec
}

// spawnBuckets cover a spawn: a second on a warm node to the default
// ten-minute spawn timeout.
var spawnBuckets = []float64{0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600}

// New creates the collectors and registers them on reg. It panics if one
// is already registered there (a programming error), like
// prometheus.MustRegister.
func New(reg prometheus.Registerer) *Metrics {
	outcome := []string{"outcome"}
	m := &Metrics{
		ActiveLabs: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "active_labs",
			Help: "Number of running labs after the last reconcile.",
		}),
		Spawns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "lab_spawns_total",
			Help: "Finished lab spawn operations by outcome.",
		}, outcome),
		SpawnDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "lab_spawn_duration_seconds",
			Help:    "Duration of lab spawn operations by outcome.",
			Buckets: spawnBuckets,
		}, outcome),
		Deletes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "lab_deletes_total",
			Help: "Finished lab deletions by outcome.",
		}, outcome),
		DeleteDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "lab_delete_duration_seconds",
			Help:    "Duration of lab deletions by outcome.",
			Buckets: spawnBuckets,
		}, outcome),
		FileServers: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "file_servers",
			Help: "Number of running user file servers.",
		}),
		FileServerCreates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "file_server_creates_total",
			Help: "File-server creations by outcome.",
		}, outcome),
		FileServerDeletes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "file_server_deletes_total",
			Help: "File-server deletions by outcome.",
		}, outcome),
		KubernetesRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "kubernetes_request_duration_seconds",
			Help:    "Latency of Kubernetes API requests by verb and resource.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"verb", "resource"}),
		KubernetesResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "kubernetes_requests_total",
			Help: "Kubernetes API requests (watches included) by method and status code.",
		}, []string{"method", "code"}),
		RateLimiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "kubernetes_rate_limiter_duration_seconds",
			Help:    "Time Kubernetes API requests waited for the client-side rate limiter, by verb and resource.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}, []string{"verb", "resource"}),
	}
	reg.MustRegister(m.ActiveLabs, m.Spawns, m.SpawnDuration, m.Deletes, m.DeleteDuration,
		m.FileServers, m.FileServerCreates, m.FileServerDeletes, m.KubernetesRequests,
		m.KubernetesResults, m.RateLimiterWait)
	// Start every outcome at zero so that rates exist before the first event.
	for _, o := range []string{Success, Failure} {
		m.Spawns.WithLabelValues(o)
		m.Deletes.WithLabelValues(o)
		m.FileServerCreates.WithLabelValues(o)
		m.FileServerDeletes.WithLabelValues(o)
	}
	return m
}

func outcomeOf(ok bool) string {
	if ok {
		return Success
	}
	return Failure
}

// SetActiveLabs records the number of running labs (after a reconcile).
func (m *Metrics) SetActiveLabs(n int) {
	if m != nil {
		m.ActiveLabs.Set(float64(n))
	}
}

// SpawnFinished records the end of a spawn operation (including the
// monitor-only ones that reconcile starts for pending labs) and its
// duration from the operation's start.
func (m *Metrics) SpawnFinished(ok bool, d time.Duration) {
	if m == nil {
		return
	}
	o := outcomeOf(ok)
	m.Spawns.WithLabelValues(o).Inc()
	m.SpawnDuration.WithLabelValues(o).Observe(d.Seconds())
}

// LabDeleted records the end of a lab deletion and its duration.
func (m *Metrics) LabDeleted(ok bool, d time.Duration) {
	if m == nil {
		return
	}
	o := outcomeOf(ok)
	m.Deletes.WithLabelValues(o).Inc()
	m.DeleteDuration.WithLabelValues(o).Observe(d.Seconds())
}

// SetFileServers records the number of running file servers.
func (m *Metrics) SetFileServers(n int) {
	if m != nil {
		m.FileServers.Set(float64(n))
	}
}

// FileServerCreated records the end of a file-server creation.
func (m *Metrics) FileServerCreated(ok bool) {
	if m != nil {
		m.FileServerCreates.WithLabelValues(outcomeOf(ok)).Inc()
	}
}

// FileServerDeleted records the end of a file-server deletion.
func (m *Metrics) FileServerDeleted(ok bool) {
	if m != nil {
		m.FileServerDeletes.WithLabelValues(outcomeOf(ok)).Inc()
	}
}

// Observe records the latency of one Kubernetes API request. Its signature
// is client-go's metrics.LatencyMetric, so the controller can pass m as
// RequestLatency to k8s.io/client-go/tools/metrics.Register. The resource
// label is the resource segment of u's path (pods, namespaces, …; with
// "/status"-style subresources appended), keeping the label set small.
func (m *Metrics) Observe(_ context.Context, verb string, u url.URL, latency time.Duration) {
	if m != nil {
		m.KubernetesRequests.WithLabelValues(verb, Resource(u.Path)).Observe(latency.Seconds())
	}
}

// RateLimited records how long one Kubernetes API request waited for the
// client-side rate limiter; u is the request's URL (or its template).
func (m *Metrics) RateLimited(verb string, u url.URL, wait time.Duration) {
	if m != nil {
		m.RateLimiterWait.WithLabelValues(verb, Resource(u.Path)).Observe(wait.Seconds())
	}
}

// RequestFinished counts one finished Kubernetes API request with its HTTP
// method and status code (client-go's code, "<error>" when there was no
// response). Its arguments are those of client-go's metrics.ResultMetric.
func (m *Metrics) RequestFinished(code, method string) {
	if m != nil {
		m.KubernetesResults.WithLabelValues(method, code).Inc()
	}
}

// Resource returns the resource named by a Kubernetes API path:
// /api/v1/namespaces/ns/pods/name → pods, /api/v1/namespaces → namespaces,
// /apis/batch/v1/namespaces/ns/jobs/x/status → jobs/status. Paths that are
// not resource paths (discovery, /version) give "other".
func Resource(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "other"
	}
	if len(parts) == 3 && parts[0] == "namespaces" && (parts[2] == "status" || parts[2] == "finalize") {
		return "namespaces/" + parts[2]
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	switch len(parts) {
	case 1, 2:
		return parts[0]
	case 3:
		return parts[0] + "/" + parts[2]
	}
	return "other"
}
