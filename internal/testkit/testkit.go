// Package testkit holds small helpers shared by the tests of several
// packages: a log buffer safe for concurrent writers, a load-once test
// configuration, an object subset comparison and API-server fault
// injection at the client's transport. Only tests import it.
package testkit

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
)

// SyncBuffer is a log destination safe for concurrent writers.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Reset discards everything written so far.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// RoundTripperFunc is an http.RoundTripper from a function.
type RoundTripperFunc func(*http.Request) (*http.Response, error)

// RoundTrip calls f.
func (f RoundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// APIFaults answers chosen API requests with an error, as a failing API
// server would. The zero value fails nothing.
type APIFaults struct {
	mu    sync.Mutex
	rules []faultRule
}

type faultRule struct {
	method, pathSuffix string
	status             int
}

// Fail makes every request with method whose path ends with pathSuffix
// fail with status and the message "Something bad happened".
func (f *APIFaults) Fail(method, pathSuffix string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, faultRule{method, pathSuffix, status})
}

// Clear removes every rule.
func (f *APIFaults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Match returns the failure response for req, or nil when no rule
// matches it.
func (f *APIFaults) Match(req *http.Request) *http.Response {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if req.Method == r.method && strings.HasSuffix(req.URL.Path, r.pathSuffix) {
			body := fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",`+
				`"message":"Something bad happened","reason":"BadRequest","code":%d}`, r.status)
			return &http.Response{
				StatusCode: r.status, Status: http.StatusText(r.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header:  http.Header{"Content-Type": []string{"application/json"}},
				Body:    io.NopCloser(strings.NewReader(body)),
				Request: req, ContentLength: int64(len(body)),
			}
		}
	}
	return nil
}

// Verbs counts API requests by verb ("WATCH" for watches). The zero value
// is ready to use.
type Verbs struct {
	mu sync.Mutex
	n  map[string]int
}

// Add counts req.
func (v *Verbs) Add(req *http.Request) {
	verb := req.Method
	if w := req.URL.Query().Get("watch"); w == "true" || w == "1" {
		verb = "WATCH"
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.n == nil {
		v.n = map[string]int{}
	}
	v.n[verb]++
}

// Snapshot returns the counts so far.
func (v *Verbs) Snapshot() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make(map[string]int, len(v.n))
	maps.Copy(out, v.n)
	return out
}

// Total returns the number of requests so far.
func (v *Verbs) Total() int {
	n := 0
	for _, c := range v.Snapshot() {
		n += c
	}
	return n
}
