package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// countingReader is an endless request body of spaces that counts the
// bytes the server read from it.
type countingReader struct {
	read  atomic.Int64
	limit int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.read.Load() >= c.limit {
		return 0, io.EOF
	}
	for i := range p {
		p[i] = ' '
	}
	c.read.Add(int64(len(p)))
	return len(p), nil
}

// TestOversizedBody: a create body over the 1 MiB limit is answered 413
// before the user is authenticated or the lab manager called, without
// reading it when Content-Length announces its size, and after reading at
// most the limit when it does not.
func TestOversizedBody(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	const size = 64 << 20
	for name, announced := range map[string]bool{"ContentLength": true, "Chunked": false} {
		t.Run(name, func(t *testing.T) {
			body := &countingReader{limit: size}
			r := httptest.NewRequest(http.MethodPost, "/nublado/spawner/v1/labs/rachel/create", io.NopCloser(body))
			r.ContentLength = -1
			if announced {
				r.ContentLength = size
			}
			for k, v := range as("rachel", "tok-rachel") {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			e.handler.ServeHTTP(w, r)
			assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
			assert.JSONEq(t, `{"detail":"Request Entity Too Large"}`, w.Body.String())
			if announced {
				assert.Zero(t, body.read.Load(), "bytes read of an announced oversized body")
			} else {
				assert.LessOrEqual(t, body.read.Load(), int64(server.DefaultMaxBodyBytes+64<<10),
					"bytes read of an oversized chunked body")
			}
		})
	}
}

// TestOversizedBodyOverHTTP sends 64 MiB to a real listener: the answer is
// 413 and the server stops reading long before the end.
func TestOversizedBodyOverHTTP(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	srv := httptest.NewServer(e.handler)
	defer srv.Close()
	body := &countingReader{limit: 64 << 20}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/nublado/spawner/v1/labs/rachel/create", io.NopCloser(body))
	require.NoError(t, err)
	req.ContentLength = body.limit
	resp, err := srv.Client().Do(req)
	require.NoError(t, err, "POST of 64 MiB")
	defer resp.Body.Close()
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.Less(t, body.read.Load(), int64(8<<20), "bytes the client could send before the server hung up")
}

// TestDeeplyNestedBody: nesting beyond server.MaxBodyDepth is a 422
// json_invalid pointing at the first bracket too many, found quickly even
// for a body of half a million brackets.
func TestDeeplyNestedBody(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, nil)
	for name, body := range map[string]string{
		"Arrays":  strings.Repeat("[", 500_000) + strings.Repeat("]", 500_000),
		"Objects": `{"options":` + strings.Repeat(`{"a":`, 150_000) + "1" + strings.Repeat("}", 150_000) + `,"env":{}}`,
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			w := e.do(request{method: http.MethodPost, path: "/nublado/spawner/v1/labs/rachel/create", body: body,
				headers: as("rachel", "tok-rachel")})
			assert.Less(t, time.Since(start), time.Second, "time to refuse the body")
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
			var got struct {
				Detail []server.FieldError `json:"detail"`
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			require.Len(t, got.Detail, 1)
			d := got.Detail[0]
			assert.Equal(t, "json_invalid", d.Type)
			assert.Equal(t, fmt.Sprintf("exceeded max depth of %d", server.MaxBodyDepth), d.Ctx["error"])
			offset := int(d.Loc[1].(float64))
			require.Less(t, offset, len(body))
			assert.Contains(t, "[{", string(body[offset]), "loc points at a bracket")
		})
	}
	ok := `{"options": {"size": [["small"]], "image_tag": "t"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/"}}`
	w := e.do(request{method: http.MethodPost, path: "/nublado/spawner/v1/labs/rachel/create", body: ok,
		headers: as("rachel", "tok-rachel")})
	assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "shallow bodies are parsed as before")
	assert.Contains(t, w.Body.String(), `"type":"enum"`)
}

// envBody is a create body with the given env entries (JSON object
// members) after JUPYTERHUB_SERVICE_PREFIX.
func envBody(members ...string) string {
	all := append([]string{`"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"`}, members...)
	return `{"options": {"image_tag": "w_2077_43", "size": "small"}, "env": {` + strings.Join(all, ", ") + `}}`
}

func member(k, v string) string {
	kb, _ := json.Marshal(k)
	vb, _ := json.Marshal(v)
	return string(kb) + ": " + string(vb)
}

// TestEnvLimits: the env object is bounded in number of keys, key length
// and value length, and its keys must be ConfigMap keys; each violation is
// a 422 in pydantic's shape, and the largest accepted env parses.
func TestEnvLimits(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = member(fmt.Sprintf("VAR_%03d", i), "x")
		}
		return out
	}
	longKey := strings.Repeat("K", server.MaxEnvKeyBytes)
	longValue := strings.Repeat("v", server.MaxEnvValueBytes)
	t.Run("Accepted", func(t *testing.T) {
		members := append(many(server.MaxEnvKeys-4), member(longKey, longValue), member("a.b-c_D9", ""), member("...", "dots"))
		req, err := server.ParseCreateBody([]byte(envBody(members...)))
		require.NoError(t, err)
		assert.Len(t, req.Env, server.MaxEnvKeys)
		assert.Equal(t, longValue, req.Env[longKey])
	})
	cases := map[string]struct {
		members []string
		want    server.FieldError
	}{
		"TooManyKeys": {many(server.MaxEnvKeys), server.FieldError{Type: "too_long", Loc: []any{"body", "env"},
			Msg: fmt.Sprintf("Dictionary should have at most %d items after validation, not %d", server.MaxEnvKeys, server.MaxEnvKeys+1)}},
		"KeyTooLong": {[]string{member(longKey+"K", "x")}, server.FieldError{Type: "string_too_long",
			Loc: []any{"body", "env", longKey + "K", "[key]"}, Msg: fmt.Sprintf("String should have at most %d bytes", server.MaxEnvKeyBytes)}},
		"ValueTooLong": {[]string{member("BIG", longValue+"v")}, server.FieldError{Type: "string_too_long",
			Loc: []any{"body", "env", "BIG"}, Msg: fmt.Sprintf("String should have at most %d bytes", server.MaxEnvValueBytes)}},
		"KeyWithSpace": {[]string{member("A B", "x")}, server.FieldError{Type: "string_pattern_mismatch",
			Loc: []any{"body", "env", "A B", "[key]"}, Msg: "String should match pattern '^[-._a-zA-Z0-9]+$'"}},
		"KeyWithEquals": {[]string{member("A=B", "x")}, server.FieldError{Type: "string_pattern_mismatch",
			Loc: []any{"body", "env", "A=B", "[key]"}, Msg: "String should match pattern '^[-._a-zA-Z0-9]+$'"}},
		"EmptyKey": {[]string{member("", "x")}, server.FieldError{Type: "string_pattern_mismatch",
			Loc: []any{"body", "env", "", "[key]"}, Msg: "String should match pattern '^[-._a-zA-Z0-9]+$'"}},
		"UnicodeKey": {[]string{member("ÄPFEL", "x")}, server.FieldError{Type: "string_pattern_mismatch",
			Loc: []any{"body", "env", "ÄPFEL", "[key]"}, Msg: "String should match pattern '^[-._a-zA-Z0-9]+$'"}},
		"DotDot": {[]string{member("..", "x")}, server.FieldError{Type: "value_error",
			Loc: []any{"body", "env", "..", "[key]"}, Msg: "Value error, .. is not a valid environment variable name"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := server.ParseCreateBody([]byte(envBody(tc.members...)))
			var verr *server.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Detail, 1, "%v", verr)
			got := verr.Detail[0]
			assert.Equal(t, tc.want.Type, got.Type)
			assert.Equal(t, tc.want.Loc, got.Loc)
			assert.Equal(t, tc.want.Msg, got.Msg)
		})
	}
}

// TestServicePrefixMustBeAPath: JUPYTERHUB_SERVICE_PREFIX ends the lab's
// internal URL (http://lab.{ns}:8888{prefix}), so a value that does not
// start with / could move it to another host ("@evil.example/").
func TestServicePrefixMustBeAPath(t *testing.T) {
	for _, prefix := range []string{"@evil.example/", "", "nb/user/rachel/", ".evil.example/"} {
		body := `{"options": {"image_tag": "t", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "` + prefix + `"}}`
		_, err := server.ParseCreateBody([]byte(body))
		var verr *server.ValidationError
		require.ErrorAs(t, err, &verr, "prefix %q", prefix)
		require.Len(t, verr.Detail, 1)
		assert.Equal(t, "Value error, JUPYTERHUB_SERVICE_PREFIX must start with /", verr.Detail[0].Msg, "prefix %q", prefix)
		assert.Equal(t, []any{"body", "env"}, verr.Detail[0].Loc)
	}
}

// TestDuplicatedAuthHeaders: X-Auth-Request-User or X-Auth-Request-Token
// sent twice is refused with 422 on every route that reads it, without
// echoing the values and before Gafaelfawr or the lab manager is asked.
func TestDuplicatedAuthHeaders(t *testing.T) {
	e := newEnv(t, nil, &fakeLabs{t: t}, fakeUsersMustNotBeCalled{t})
	routes := []struct{ method, path, body string }{
		{http.MethodPost, "/nublado/spawner/v1/labs/rachel/create", envBody()},
		{http.MethodGet, "/nublado/spawner/v1/lab-form/rachel", ""},
		{http.MethodGet, "/nublado/spawner/v1/labs/rachel/events", ""},
		{http.MethodGet, "/nublado/spawner/v1/user-status", ""},
	}
	for _, rt := range routes {
		for _, dup := range []string{"X-Auth-Request-User", "X-Auth-Request-Token"} {
			if dup == "X-Auth-Request-Token" && !strings.Contains(rt.path, "create") && !strings.Contains(rt.path, "lab-form") {
				continue // routes that do not read the token
			}
			t.Run(rt.method+" "+rt.path+" "+dup, func(t *testing.T) {
				r := httptest.NewRequest(rt.method, rt.path, strings.NewReader(rt.body))
				r.Header.Set("X-Auth-Request-User", "rachel")
				r.Header.Set("X-Auth-Request-Token", "tok-rachel")
				r.Header.Add(dup, "intruder-secret-value")
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, r)
				assert.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
				lower := strings.ToLower(dup)
				assert.JSONEq(t, `{"detail":[{"type":"value_error","loc":["header","`+lower+`"],`+
					`"msg":"Value error, Header `+dup+` must be sent once, not 2 times","input":null,"ctx":{"error":{}}}]}`,
					w.Body.String())
				assert.NotContains(t, w.Body.String(), "intruder-secret-value")
				assert.NotContains(t, e.log.String(), "intruder-secret-value")
			})
		}
	}
}

// fakeUsersMustNotBeCalled fails the test when Gafaelfawr is asked.
type fakeUsersMustNotBeCalled struct{ t testing.TB }

func (f fakeUsersMustNotBeCalled) UserInfo(context.Context, string) (*nublado.User, error) {
	f.t.Errorf("unexpected user-info call")
	return nil, errors.New("unexpected user-info call")
}
