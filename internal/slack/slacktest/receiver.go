// Package slacktest is a Slack incoming webhook for tests: an
// httptest server that records the messages posted to it.
package slacktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Receiver is a recording webhook. Its methods are safe for concurrent
// use.
type Receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies [][]byte
	status int
}

// NewReceiver starts a receiver on 127.0.0.1, closed when t ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{status: http.StatusOK}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL returns the webhook URL.
func (r *Receiver) URL() string { return r.srv.URL + "/services/T000/B000/secret" }

// SetStatus makes the receiver answer status from now on (default 200).
func (r *Receiver) SetStatus(status int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}

// Bodies returns the raw bodies received so far, in order.
func (r *Receiver) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...)
}

// Messages returns the bodies received so far, decoded as generic JSON.
func (r *Receiver) Messages(t testing.TB) []map[string]any {
	t.Helper()
	var msgs []map[string]any
	for _, b := range r.Bodies() {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decoding Slack message %s: %v", b, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.bodies = append(r.bodies, body)
	status := r.status
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write([]byte("ok"))
}
