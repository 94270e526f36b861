package faults

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/rest"
)

// Proxy is a reverse proxy in front of a kube-apiserver that injects
// faults. It listens on 127.0.0.1 (plain HTTP, no authentication) and
// forwards to the API server with the credentials of the rest.Config it was
// built from. It is safe for concurrent use.
type Proxy struct {
	srv *http.Server
	lis net.Listener
	rp  *httputil.ReverseProxy

	mu       sync.Mutex
	rules    []*rule
	nextID   int
	requests []Request
	streams  map[*stream]struct{}
}

// Request is one request the proxy received.
type Request struct {
	Method, Path string
	// URL is the request's URL (path and query).
	URL *url.URL
	// Watch is set for watch requests (?watch=true).
	Watch bool
	// Injected is set when a rule answered it instead of the API server.
	Injected bool
	Time     time.Time
}

// Matched reports whether m selects the request (m sees its method and
// URL only).
func (r Request) Matched(m Match) bool {
	return m(&http.Request{Method: r.Method, URL: r.URL})
}

// Match selects requests.
type Match func(*http.Request) bool

// Fault handles a request a rule selected. next forwards it to the API
// server; a fault that answers by itself does not call it.
type Fault func(w http.ResponseWriter, r *http.Request, next http.Handler)

// Rule applies Fault to the requests that Match selects, the first Times of
// them (every one when Times is 0). Rules are tried in the order they were
// added; the first that matches handles the request.
type Rule struct {
	Match Match
	Fault Fault
	Times int
}

type rule struct {
	Rule
	id   int
	left int // requests still to handle; -1: unlimited
}

// NewProxy starts a proxy to the API server of upstream on a free port of
// 127.0.0.1. Close it when done.
func NewProxy(upstream *rest.Config) (*Proxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("parsing API server URL %q: %w", upstream.Host, err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("building API server transport: %w", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	p := &Proxy{lis: lis, streams: map[*stream]struct{}{}}
	p.rp = httputil.NewSingleHostReverseProxy(target)
	p.rp.Transport = transport
	p.rp.FlushInterval = -1 // watches stream
	p.rp.ErrorLog = log.New(io.Discard, "", 0)
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(lis) }()
	return p, nil
}

// URL returns the proxy's base URL, http://127.0.0.1:PORT.
func (p *Proxy) URL() string { return "http://" + p.lis.Addr().String() }

// Config returns a client configuration that talks to the API server
// through the proxy.
func (p *Proxy) Config() *rest.Config {
	return &rest.Config{Host: p.URL(), QPS: 200, Burst: 400}
}

// WriteKubeconfig writes a kubeconfig file for the proxy to path.
func (p *Proxy) WriteKubeconfig(path string) error {
	data := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: faults, cluster: {server: %q}}]
users: [{name: faults, user: {}}]
contexts: [{name: faults, context: {cluster: faults, user: faults}}]
current-context: faults
`, p.URL())
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// Close stops the proxy and ends every open request.
func (p *Proxy) Close() error {
	p.mu.Lock()
	for s := range p.streams {
		s.release()
	}
	p.mu.Unlock()
	if err := p.srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("closing proxy: %w", err)
	}
	return nil
}

// Add installs a rule and returns a function that removes it.
func (p *Proxy) Add(r Rule) (remove func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nextID++
	nr := &rule{Rule: r, id: p.nextID, left: r.Times}
	if r.Times == 0 {
		nr.left = -1
	}
	p.rules = append(p.rules, nr)
	return func() { p.remove(nr.id) }
}

func (p *Proxy) remove(id int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, r := range p.rules {
		if r.id == id {
			p.rules = append(p.rules[:i], p.rules[i+1:]...)
			return
		}
	}
}

// Clear removes every rule.
func (p *Proxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Requests returns the requests received so far that m selects (all of
// them when m is nil), oldest first.
func (p *Proxy) Requests(m func(Request) bool) []Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Request
	for _, r := range p.requests {
		if m == nil || m(r) {
			out = append(out, r)
		}
	}
	return out
}

// StallWatches makes every open watch stream that m selects go silent:
// the client keeps its connection and receives nothing more, until it gives
// up on the request. Watches opened later are not affected. It returns how
// many streams it stalled.
func (p *Proxy) StallWatches(m Match) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for s := range p.streams {
		if m(s.req) && s.stalled.CompareAndSwap(false, true) {
			n++
		}
	}
	return n
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	fault := p.match(r)
	next := http.Handler(http.HandlerFunc(p.forward))
	if fault != nil {
		fault(w, r, next)
		return
	}
	next.ServeHTTP(w, r)
}

// match records r and returns the fault of the first rule selecting it.
func (p *Proxy) match(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := *r.URL
	rec := Request{Method: r.Method, Path: r.URL.Path, URL: &u, Watch: isWatch(r), Time: time.Now()}
	var fault Fault
	for _, rl := range p.rules {
		if rl.left != 0 && rl.Match(r) {
			if rl.left > 0 {
				rl.left--
			}
			fault, rec.Injected = rl.Fault, true
			break
		}
	}
	p.requests = append(p.requests, rec)
	return fault
}

// forward sends r to the API server; watch streams are tracked so that
// StallWatches can silence them.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request) {
	if !isWatch(r) {
		p.rp.ServeHTTP(w, r)
		return
	}
	s := &stream{ResponseWriter: w, req: r, done: make(chan struct{})}
	p.mu.Lock()
	p.streams[s] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.streams, s)
		p.mu.Unlock()
	}()
	p.rp.ServeHTTP(s, r)
	if s.stalled.Load() {
		// The API server ended the watch; the client must not learn it.
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	}
}

// stream is the response writer of a watch; once stalled it swallows
// everything.
type stream struct {
	http.ResponseWriter
	req     *http.Request
	stalled atomic.Bool
	done    chan struct{}
	once    sync.Once
}

func (s *stream) Write(b []byte) (int, error) {
	if s.stalled.Load() {
		return len(b), nil
	}
	return s.ResponseWriter.Write(b)
}

func (s *stream) Flush() {
	if !s.stalled.Load() {
		_ = http.NewResponseController(s.ResponseWriter).Flush()
	}
}

func (s *stream) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *stream) release() { s.once.Do(func() { close(s.done) }) }

func isWatch(r *http.Request) bool {
	v := r.URL.Query().Get("watch")
	return v == "true" || v == "1"
}

// resourceOf returns the resource of an API path (/api/v1/namespaces/x/pods
// → pods; /apis/g/v/namespaces → namespaces), and the name when the path
// names one object.
func resourceOf(path string) (resource, name string) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return "", ""
	}
	if len(parts) >= 3 && parts[0] == "namespaces" {
		parts = parts[2:]
	}
	if len(parts) == 0 {
		return "", ""
	}
	if len(parts) >= 2 {
		return parts[0], parts[1]
	}
	return parts[0], ""
}

// Watches selects the watch requests of a resource (plural, e.g. "pods");
// "" selects every watch.
func Watches(resource string) Match {
	return func(r *http.Request) bool {
		res, _ := resourceOf(r.URL.Path)
		return isWatch(r) && (resource == "" || res == resource)
	}
}

// Verb selects the requests with an HTTP method on a resource (plural;
// "" for any) that are not watches.
func Verb(method, resource string) Match {
	return func(r *http.Request) bool {
		res, _ := resourceOf(r.URL.Path)
		return !isWatch(r) && r.Method == method && (resource == "" || res == resource)
	}
}

// InNamespace narrows m to requests on objects of a namespace (or on the
// namespace itself).
func InNamespace(ns string, m Match) Match {
	return func(r *http.Request) bool {
		return m(r) && (strings.Contains(r.URL.Path, "/namespaces/"+ns+"/") ||
			strings.HasSuffix(r.URL.Path, "/namespaces/"+ns))
	}
}

// Any selects every request.
func Any(*http.Request) bool { return true }

// Status answers with a Kubernetes Status of code; a positive retryAfter
// adds the Retry-After header and details.retryAfterSeconds, as the API
// server's priority and fairness does when it throttles.
func Status(code int, retryAfter time.Duration) Fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		secs := int(retryAfter.Round(time.Second).Seconds())
		details := ""
		if secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			details = `,"details":{"retryAfterSeconds":` + strconv.Itoa(secs) + `}`
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",`+
			`"message":"injected fault","reason":%q,"code":%d%s}`, reason(code), code, details)
	}
}

func reason(code int) string {
	switch code {
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	case http.StatusGatewayTimeout:
		return "Timeout"
	}
	return "InternalError"
}

// Gone answers a watch as the API server does when its resourceVersion is
// too old: the stream opens and carries a single ERROR event with a 410
// Expired Status, then ends.
func Gone() Fault {
	return func(w http.ResponseWriter, _ *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},`+
			`"status":"Failure","message":"too old resource version: 1 (2)","reason":"Expired","code":410}}`+"\n")
	}
}

// Delay holds a request for d (or until the client gives up) and then
// forwards it.
func Delay(d time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return
		case <-t.C:
		}
		next.ServeHTTP(w, r)
	}
}

// Observe calls fn with the request and then forwards it.
func Observe(fn func(*http.Request)) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		fn(r)
		next.ServeHTTP(w, r)
	}
}

// Hold blocks a request until release is closed (or the client gives up),
// then forwards it.
func Hold(release <-chan struct{}) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		next.ServeHTTP(w, r)
	}
}
