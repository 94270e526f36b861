package metrics_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	k8smetrics "k8s.io/client-go/tools/metrics"

	"github.com/nublado-go/nublado/server/metrics"
)

var _ k8smetrics.LatencyMetric = (*metrics.Metrics)(nil)

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	m.SetActiveLabs(3)
	m.SpawnFinished(true, 2*time.Second)
	m.SpawnFinished(false, 10*time.Second)
	m.SpawnFinished(true, time.Second)
	m.LabDeleted(true, time.Second)
	m.SetFileServers(1)
	m.FileServerCreated(true)
	m.FileServerDeleted(false)
	m.Observe(context.Background(), "POST", url.URL{Path: "/api/v1/namespaces/userlabs-rachel/pods"}, 30*time.Millisecond)
	m.RateLimited("PATCH", url.URL{Path: "/api/v1/namespaces/{namespace}/pods/{name}"}, 250*time.Millisecond)
	m.RequestFinished("200", "PATCH")
	m.RequestFinished("200", "PATCH")
	m.RequestFinished("<error>", "GET")

	assert.Equal(t, 3.0, value(t, m.ActiveLabs))
	assert.Equal(t, 2.0, value(t, m.Spawns.WithLabelValues(metrics.Success)))
	assert.Equal(t, 1.0, value(t, m.Spawns.WithLabelValues(metrics.Failure)))
	assert.Equal(t, 1.0, value(t, m.Deletes.WithLabelValues(metrics.Success)))
	assert.Equal(t, 0.0, value(t, m.Deletes.WithLabelValues(metrics.Failure)))
	assert.Equal(t, 1.0, value(t, m.FileServers))
	assert.Equal(t, 1.0, value(t, m.FileServerCreates.WithLabelValues(metrics.Success)))
	assert.Equal(t, 1.0, value(t, m.FileServerDeletes.WithLabelValues(metrics.Failure)))

	h := histogram(t, m.SpawnDuration.WithLabelValues(metrics.Success))
	assert.Equal(t, uint64(2), h.GetSampleCount())
	assert.Equal(t, 3.0, h.GetSampleSum())
	h = histogram(t, m.SpawnDuration.WithLabelValues(metrics.Failure))
	assert.Equal(t, uint64(1), h.GetSampleCount())
	h = histogram(t, m.KubernetesRequests.WithLabelValues("POST", "pods"))
	assert.Equal(t, uint64(1), h.GetSampleCount())
	assert.InDelta(t, 0.03, h.GetSampleSum(), 1e-9)
	h = histogram(t, m.RateLimiterWait.WithLabelValues("PATCH", "pods"))
	assert.Equal(t, uint64(1), h.GetSampleCount())
	assert.InDelta(t, 0.25, h.GetSampleSum(), 1e-9)
	assert.Equal(t, 2.0, value(t, m.KubernetesResults.WithLabelValues("PATCH", "200")))
	assert.Equal(t, 1.0, value(t, m.KubernetesResults.WithLabelValues("GET", "<error>")))

	families, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	assert.Equal(t, []string{
		"nublado_active_labs", "nublado_file_server_creates_total", "nublado_file_server_deletes_total",
		"nublado_file_servers", "nublado_kubernetes_rate_limiter_duration_seconds",
		"nublado_kubernetes_request_duration_seconds", "nublado_kubernetes_requests_total",
		"nublado_lab_delete_duration_seconds", "nublado_lab_deletes_total",
		"nublado_lab_spawn_duration_seconds", "nublado_lab_spawns_total",
	}, names)
}

func value(t *testing.T, m prometheus.Metric) float64 {
	t.Helper()
	var out dto.Metric
	require.NoError(t, m.Write(&out))
	if out.Gauge != nil {
		return out.Gauge.GetValue()
	}
	return out.Counter.GetValue()
}

func histogram(t *testing.T, o prometheus.Observer) *dto.Histogram {
	t.Helper()
	var out dto.Metric
	require.NoError(t, o.(prometheus.Metric).Write(&out))
	return out.Histogram
}

func TestNilMetrics(t *testing.T) {
	var m *metrics.Metrics
	m.SetActiveLabs(1)
	m.SpawnFinished(true, time.Second)
	m.LabDeleted(false, time.Second)
	m.SetFileServers(1)
	m.FileServerCreated(true)
	m.FileServerDeleted(true)
	m.Observe(context.Background(), "GET", url.URL{Path: "/api/v1/pods"}, time.Millisecond)
	m.RateLimited("GET", url.URL{Path: "/api/v1/pods"}, time.Millisecond)
	m.RequestFinished("200", "GET")
	assert.Nil(t, m)
}

func TestResource(t *testing.T) {
	cases := map[string]string{
		"/api/v1/namespaces":                                    "namespaces",
		"/api/v1/namespaces/userlabs-rachel":                    "namespaces",
		"/api/v1/namespaces/userlabs-rachel/pods":               "pods",
		"/api/v1/namespaces/userlabs-rachel/pods/rachel-nb":     "pods",
		"/api/v1/namespaces/ns/pods/rachel-nb/status":           "pods/status",
		"/api/v1/namespaces/ns/status":                          "namespaces/status",
		"/apis/batch/v1/namespaces/fileservers/jobs/x":          "jobs",
		"/apis/gafaelfawr.lsst.io/v1alpha1/gafaelfawringresses": "gafaelfawringresses",
		"/api/v1/nodes": "nodes",
		"/version":      "other",
		"/apis":         "other",
		"/api":          "other",
	}
	for path, want := range cases {
		assert.Equal(t, want, metrics.Resource(path), "Resource(%q)", path)
	}
}
