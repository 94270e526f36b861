package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
)

// TestShutdownEndsStreams: an idle event stream (pings only) ends when the
// server's base context is cancelled, so that Shutdown returns.
func TestShutdownEndsStreams(t *testing.T) {
	q := events.NewQueue()
	labs := &fakeLabs{t: t, events: func(string) (*events.Reader, error) { return q.Reader(), nil }}
	e := newEnv(t, nil, labs, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := server.NewHTTPServer(ctx, ln.Addr().String(), e.handler)
	go func() { _ = srv.Serve(ln) }()

	req, err := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/nublado/spawner/v1/labs/rachel/events", nil)
	require.NoError(t, err)
	req.Header.Set("X-Auth-Request-User", "rachel")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	cancel()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	require.NoError(t, srv.Shutdown(shutdownCtx), "Shutdown waits for the stream, which ends")
	_, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
}
