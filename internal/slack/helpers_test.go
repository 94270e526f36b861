package slack_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// newServer starts h on 127.0.0.1 and returns a webhook URL on it.
func newServer(t *testing.T, h http.Handler) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/services/secret"
}
