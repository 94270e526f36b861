package load

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 50*time.Millisecond, Percentile(ds, 0.50))
	assert.Equal(t, 95*time.Millisecond, Percentile(ds, 0.95))
	assert.Equal(t, 99*time.Millisecond, Percentile(ds, 0.99))
	assert.Equal(t, 100*time.Millisecond, Percentile(ds, 1))
	assert.Equal(t, time.Millisecond, Percentile(ds, 0))
	assert.Equal(t, time.Duration(0), Percentile(nil, 0.5))
}

func TestSummarize(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := Summarize([]Result{
		{Start: t0, Done: 3 * time.Second},
		{Start: t0.Add(time.Second), Done: time.Second},
		{Start: t0.Add(2 * time.Second), Err: assert.AnError},
	})
	assert.Equal(t, 3, s.N)
	assert.Equal(t, 1, s.Failed)
	assert.Equal(t, time.Second, s.P50)
	assert.Equal(t, 3*time.Second, s.Max)
	assert.Equal(t, 3*time.Second, s.Span)
}

func TestReadEvents(t *testing.T) {
	stream := ": keep-alive\n\nevent: info\ndata: {\"message\": \"Starting\", \"progress\": 1}\n\n" +
		"event: complete\ndata: {\"message\": \"Lab Kubernetes pod started for u\"}\n\nevent: info\ndata: {}\n\n"
	var got []Event
	require.NoError(t, readEvents(strings.NewReader(stream), func(ev Event) bool {
		got = append(got, ev)
		return ev.Type != "complete"
	}))
	assert.Equal(t, []Event{{Type: "info", Message: "Starting", Progress: 1},
		{Type: "complete", Message: "Lab Kubernetes pod started for u"}}, got)
	assert.Error(t, readEvents(strings.NewReader("event: info\ndata: {\n\n"), func(Event) bool { return true }))
}

func TestProcFiles(t *testing.T) {
	status := []byte("Name:\tnublado\nVmHWM:\t  120000 kB\nVmRSS:\t   80000 kB\n")
	assert.Equal(t, int64(120000), procStatusKB(status, "VmHWM"))
	assert.Equal(t, int64(80000), procStatusKB(status, "VmRSS"))
	assert.Equal(t, int64(0), procStatusKB(status, "VmSwap"))
	// pid (comm with spaces) state ppid ... utime=250 stime=50 (fields 14, 15)
	stat := []byte("42 (nub lado) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0")
	cpu, err := procStatCPU(stat)
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, cpu)
	_, err = procStatCPU([]byte("garbage"))
	assert.Error(t, err)
}

func TestMetricsSum(t *testing.T) {
	m, err := ParseMetrics(strings.NewReader(`# TYPE r counter
r{method="GET",code="200"} 3
r{method="GET",code="404"} 1
r{method="PATCH",code="200"} 9
# TYPE h histogram
h_bucket{verb="GET",le="+Inf"} 2
h_sum{verb="GET"} 0.5
h_count{verb="GET"} 2
`))
	require.NoError(t, err)
	assert.Equal(t, map[string]float64{"GET": 4, "PATCH": 9}, m.Sum("r", nil, false, "method"))
	assert.Equal(t, map[string]float64{"GET 200": 3, "GET 404": 1, "PATCH 200": 9}, m.Sum("r", nil, false, "method", "code"))
	assert.Equal(t, map[string]float64{"": 12}, m.Sum("r", map[string]string{"code": "200"}, false))
	assert.Equal(t, map[string]float64{"GET": 2}, m.Sum("h", nil, false, "verb"))
	assert.Equal(t, map[string]float64{"GET": 0.5}, m.Sum("h", nil, true, "verb"))
	assert.Empty(t, m.Sum("missing", nil, false))
	assert.Equal(t, map[string]float64{"a": 2, "c": 1}, Delta(map[string]float64{"a": 1, "b": 2}, map[string]float64{"a": 3, "b": 2, "c": 1}))
}
