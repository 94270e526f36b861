//go:build conformance

package gafaelfawr

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var conformance = filepath.Join("..", "..", "..", "shared", "conformance", "nublado-15.1.0")

// TestConformanceUsers serves the conformance discovery document (with its
// Gafaelfawr URL pointed at the test server) and user-info payloads, and
// checks what the client makes of them: rachel may spawn (spawn defaults to
// true), ribbon may not.
func TestConformanceUsers(t *testing.T) {
	discovery, err := os.ReadFile(filepath.Join(conformance, "discovery.json"))
	require.NoError(t, err)
	users := map[string][]byte{}
	for _, name := range []string{"rachel", "ribbon"} {
		users[name], err = os.ReadFile(filepath.Join(conformance, "controller", "users", name+".json"))
		require.NoError(t, err)
	}
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/repertoire/discovery":
			_, _ = w.Write([]byte(strings.ReplaceAll(string(discovery), "https://data.example.com", srv.URL)))
		case "/auth/api/v1/user-info":
			body, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer tok-")]
			if !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := New(srv.URL + "/repertoire")
	u, err := c.UserInfo(context.Background(), "tok-rachel")
	require.NoError(t, err)
	assert.Equal(t, "rachel", u.Username)
	assert.Equal(t, int64(1101), *u.UID)
	assert.Len(t, u.Groups, 5)
	assert.True(t, u.Quota.Notebook.Spawn)
	assert.Equal(t, int64(28991029248), u.Quota.Notebook.MemoryBytes())
	u, err = c.UserInfo(context.Background(), "tok-ribbon")
	require.NoError(t, err)
	assert.False(t, u.Quota.Notebook.Spawn)
	_, err = c.UserInfo(context.Background(), "tok-nobody")
	require.ErrorIs(t, err, ErrInvalidToken)
}
