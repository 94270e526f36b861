package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/klog/v2"
)

func TestConfigureLogger(t *testing.T) {
	log := logrus.New()
	var buf bytes.Buffer
	require.NoError(t, configureLogger(log, &buf, ProfileProduction, "WARNING"))
	log.Info("hidden")
	log.WithField("user", "rachel").Warn("Lab spawn failed")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), "one JSON line: %q", buf.String())
	assert.Equal(t, "Lab spawn failed", line["event"])
	assert.Equal(t, "warning", line["severity"])
	assert.Equal(t, "rachel", line["user"])

	require.Error(t, configureLogger(log, &buf, "pretty", "INFO"))
	require.Error(t, configureLogger(log, &buf, ProfileDevelopment, "LOUD"))
}

func TestRouteKlog(t *testing.T) {
	log := logrus.New()
	var buf bytes.Buffer
	require.NoError(t, configureLogger(log, &buf, ProfileProduction, "DEBUG"))
	routeKlog(log)
	defer klog.ClearLogger()

	klog.InfoS("Waited before sending request", "delay", "1.5s")
	klog.ErrorS(errors.New("boom"), "Watch failed", "kind", "Pod")
	klog.Background().WithName("reflector").WithValues("resource", "pods").Info("Listing")
	klog.Background().V(5).Info("too verbose")
	klog.Flush()

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %q", l)
		lines = append(lines, m)
	}
	require.Len(t, lines, 3, "lines: %q", buf.String())
	assert.Equal(t, "Waited before sending request", lines[0]["event"])
	assert.Equal(t, "info", lines[0]["severity"])
	assert.Equal(t, "client-go", lines[0]["logger"])
	assert.Equal(t, "1.5s", lines[0]["delay"])
	assert.Equal(t, "error", lines[1]["severity"])
	assert.Equal(t, "boom", lines[1]["error"])
	assert.Equal(t, "Pod", lines[1]["kind"])
	assert.Equal(t, "info", lines[2]["severity"])
	assert.Equal(t, "pods", lines[2]["resource"])
}

func TestKlogLevels(t *testing.T) {
	assert.Equal(t, logrus.InfoLevel, logrusLevel(0))
	assert.Equal(t, logrus.DebugLevel, logrusLevel(1))
	assert.Equal(t, logrus.DebugLevel, logrusLevel(2))
	assert.Equal(t, logrus.TraceLevel, logrusLevel(4))
	log := logrus.New()
	log.SetLevel(logrus.DebugLevel)
	var buf bytes.Buffer
	log.SetOutput(&buf)
	sink := &logrusSink{entry: logrus.NewEntry(log)}
	assert.True(t, sink.Enabled(2))
	assert.False(t, sink.Enabled(3))
	sink.Info(2, "verbose", "odd")
	assert.Contains(t, buf.String(), "level=debug")
	assert.Contains(t, buf.String(), `odd="(MISSING)"`)
	buf.Reset()
	logr.New(sink).WithName("client").WithName("reflector").WithValues("resource", "pods").Error(errors.New("gone"), "Watch closed")
	assert.Contains(t, buf.String(), "component=client.reflector")
	assert.Contains(t, buf.String(), "resource=pods")
	assert.Contains(t, buf.String(), "error=gone")
	assert.Contains(t, buf.String(), "level=error")
}
