package apply_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

// faultProxy is a reverse proxy in front of the API server that answers
// chosen requests itself, to inject failures.
type faultProxy struct {
	mu       sync.Mutex
	faults   []fault
	injected []string // the requests answered by a fault
	requests []string // every request, in order
}

// fault answers the next request that match accepts, times times (or
// forever when times is negative).
type fault struct {
	match   func(*http.Request) bool
	respond func(http.ResponseWriter)
	times   int
}

// newFaultProxy starts a proxy to the shared control plane and returns an
// Applier that talks through it.
func newFaultProxy(t *testing.T, opts ...apply.Option) (*faultProxy, *apply.Applier) {
	t.Helper()
	c := testcluster.Shared(t)
	upstream, err := url.Parse(c.Host())
	require.NoError(t, err)
	transport, err := rest.TransportFor(c.Config())
	require.NoError(t, err)
	p := &faultProxy{}
	rp := httputil.NewSingleHostReverseProxy(upstream)
	rp.Transport = transport
	rp.FlushInterval = -1 // stream watches
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.inject(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	a, err := apply.NewForConfig(&rest.Config{Host: srv.URL}, opts...)
	require.NoError(t, err)
	return p, a
}

// add queues a fault.
func (p *faultProxy) add(f fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = append(p.faults, f)
}

// inject answers r with the first matching fault, if any.
func (p *faultProxy) inject(w http.ResponseWriter, r *http.Request) bool {
	p.mu.Lock()
	line := r.Method + " " + r.URL.RequestURI()
	p.requests = append(p.requests, line)
	var respond func(http.ResponseWriter)
	for i := range p.faults {
		f := &p.faults[i]
		if f.times != 0 && f.match(r) {
			f.times--
			respond = f.respond
			p.injected = append(p.injected, line)
			break
		}
	}
	p.mu.Unlock()
	if respond == nil {
		return false
	}
	respond(w)
	return true
}

// log returns the injected and all requests so far.
func (p *faultProxy) log() (injected, requests []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.injected...), append([]string(nil), p.requests...)
}

// status answers with a Kubernetes Status of code and message, plus extra
// headers.
func status(code int, reason, message string, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(statusJSON(code, reason, message))
	}
}

func statusJSON(code int, reason, message string) []byte {
	return []byte(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"` + message +
		`","reason":"` + reason + `","code":` + strconv.Itoa(code) + `}`)
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// expiredWatch answers a watch with a 410 Expired error event, as the API
// server does when the resourceVersion is too old.
func expiredWatch(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"type":"ERROR","object":` + string(statusJSON(410, "Expired", "too old resource version: 1 (2)")) + "}\n"))
}

// is matches requests by method and a path prefix; watch selects watch
// requests (true), other requests (false), or either (nil).
func is(method, pathPrefix string, watch *bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if r.Method != method || len(r.URL.Path) < len(pathPrefix) || r.URL.Path[:len(pathPrefix)] != pathPrefix {
			return false
		}
		return watch == nil || (r.URL.Query().Get("watch") == "true") == *watch
	}
}
