package labs_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

// secretValue is a distinctive random value for one secret of the scenario.
func secretValue(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return what + "-" + hex.EncodeToString(b)
}

// leakScenario is TestSecretsNeverLeak's state: the API under test and
// every text it produced.
type leakScenario struct {
	t      *testing.T
	h      *harness
	srv    *httptest.Server
	texts  []string // response status lines, headers and bodies, event data
	counts map[string]int
}

func (s *leakScenario) record(kind, text string) {
	s.texts = append(s.texts, text)
	s.counts[kind]++
}

// send makes one request with the given token (none when empty) and
// records the whole response; it returns the status and body.
func (s *leakScenario) send(method, path string, tokens []string, body string) (int, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+"/nublado/spawner/v1"+path, rd)
	require.NoError(s.t, err)
	req.Header.Set("X-Auth-Request-User", "rachel")
	for _, tok := range tokens {
		req.Header.Add("X-Auth-Request-Token", tok)
	}
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "example.com")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	var head bytes.Buffer
	require.NoError(s.t, resp.Header.Write(&head))
	s.record("responses", resp.Status+"\n"+head.String()+"\n"+string(data))
	return resp.StatusCode, string(data)
}

// stream reads rachel's event stream to its end and records every event.
func (s *leakScenario) stream() []sseEvent {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := &api{t: s.t, h: s.h, srv: s.srv}
	evs, err := a.stream(ctx, "rachel", nil)
	require.NoError(s.t, err)
	for _, ev := range evs {
		s.record("sse events", ev.Event+": "+ev.Data)
	}
	return evs
}

// kubernetesEvents records every Event object of the controller's and the
// lab's namespaces.
func (s *leakScenario) kubernetesEvents() {
	s.t.Helper()
	for _, ns := range []string{s.h.ns, s.h.cfg.LabNamespace("rachel")} {
		list, err := s.h.c.Client().CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{})
		require.NoError(s.t, err)
		for _, ev := range list.Items {
			data, err := json.Marshal(ev)
			require.NoError(s.t, err)
			s.record("kubernetes events", string(data))
		}
	}
}

// fakeGafaelfawr serves Repertoire discovery and Gafaelfawr user-info:
// token is rachel's, down answers 502, anything else 401.
func fakeGafaelfawr(t *testing.T, token, down string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("GET /repertoire/discovery", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, `{"services":{"internal":{"gafaelfawr":{"versions":{"v1":{"url":%q}}}}}}`, srv.URL+"/auth/api/v1")
	})
	mux.HandleFunc("GET /auth/api/v1/user-info", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer " + token:
			fmt.Fprint(w, `{"username":"rachel","name":"Rachel","uid":1101,"gid":1101,`+
				`"groups":[{"name":"rachel","id":1101}],"quota":{"notebook":{"cpu":9,"memory":27,"spawn":true}}}`)
		case "Bearer " + down:
			http.Error(w, "upstream down", http.StatusBadGateway)
		default:
			http.Error(w, `{"detail":[{"msg":"Invalid token","type":"invalid_token"}]}`, http.StatusUnauthorized)
		}
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// setSecrets gives the controller namespace's source Secrets distinctive
// values and returns them.
func setSecrets(t *testing.T, h *harness) []string {
	t.Helper()
	ctx := context.Background()
	butler, db := secretValue(t, "butler"), secretValue(t, "dbpass")
	registryPass := secretValue(t, "registrypass")
	auth := base64.StdEncoding.EncodeToString([]byte("pull-user:" + registryPass))
	values := map[string]map[string]string{
		"nublado-secret": {"butler-secret": butler, "other-key": secretValue(t, "other")},
		"extra-secret":   {"db-password": db},
		"pull-secret":    {".dockerconfigjson": `{"auths":{"lighthouse.ceres":{"auth":"` + auth + `"}}}`},
	}
	for name, data := range values {
		secrets := h.c.Client().CoreV1().Secrets(h.ns)
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		s.Data, s.StringData = nil, data
		_, err = secrets.Update(ctx, s, metav1.UpdateOptions{})
		require.NoError(t, err, "updating Secret %s", name)
	}
	return []string{butler, db, values["nublado-secret"]["other-key"], registryPass, auth}
}

// TestSecretsNeverLeak runs a full scenario over the real router, the real
// Gafaelfawr client and the lab manager on the local control plane:
// refused creates (invalid token, Gafaelfawr down, duplicated token,
// unknown image, unknown size, insufficient quota), a spawn failing at the lab Secret, a
// successful spawn with lab secrets, a pull secret and the delegated
// token, status routes, a second create (409), the event streams and a
// delete. It captures every log line (JSON, debug level), every response
// (status, headers, body), every event of the streams and every
// Kubernetes Event of the namespaces involved, and checks that no token
// and no secret value (plain or base64) appears in any of them, while the
// lab's Secret does hold them.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{debug: true})
	values := setSecrets(t, h)
	token, bad, down := secretValue(t, "gt-rachel"), secretValue(t, "gt-invalid"), secretValue(t, "gt-down")
	gaf := fakeGafaelfawr(t, token, down)
	log := logrus.New()
	log.SetOutput(h.log)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)
	users := gafaelfawr.New(gaf.URL + "/repertoire")
	srv := httptest.NewServer(server.New(h.cfg, h.m, users, logrus.NewEntry(log)))
	t.Cleanup(srv.Close)
	s := &leakScenario{t: t, h: h, srv: srv, counts: map[string]int{}}
	withImage := func(opts string) string {
		return `{"options": {` + opts + `}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"}}`
	}

	for _, c := range []struct {
		reason string
		tokens []string
		body   string
		want   int
	}{
		{"invalid token", []string{bad}, createBody("rachel"), http.StatusUnauthorized},
		{"Gafaelfawr down", []string{down}, createBody("rachel"), http.StatusInternalServerError},
		{"duplicated token", []string{token, bad}, createBody("rachel"), http.StatusUnprocessableEntity},
		{"unknown image", []string{token}, withImage(`"image_tag": "nope", "size": "small"`), http.StatusBadRequest},
		{"unknown size", []string{token}, withImage(`"image_tag": "w_2077_43", "size": "colossal"`), http.StatusUnprocessableEntity},
		{"insufficient quota", []string{token}, withImage(`"image_tag": "w_2077_43", "size": "huge"`), http.StatusForbidden},
	} {
		status, body := s.send(http.MethodPost, "/labs/rachel/create", c.tokens, c.body)
		assert.Equal(t, c.want, status, "create with %s: %s", c.reason, body)
	}

	// A spawn that fails at the lab Secret: its error travels through
	// events, status and logs.
	h.faults.Fail(http.MethodPatch, "/secrets/rachel-nb", http.StatusInternalServerError)
	status, body := s.send(http.MethodPost, "/labs/rachel/create", []string{token}, createBody("rachel"))
	require.Equal(t, http.StatusCreated, status, "create: %s", body)
	evs := s.stream()
	require.NotEmpty(t, evs)
	assert.Equal(t, "failed", evs[len(evs)-1].Event, "last event of the failing spawn")
	s.send(http.MethodGet, "/labs/rachel", nil, "")
	h.faults.Clear()

	status, body = s.send(http.MethodPost, "/labs/rachel/create", []string{token}, createBody("rachel"))
	require.Equal(t, http.StatusCreated, status, "create: %s", body)
	evs = s.stream()
	require.NotEmpty(t, evs)
	require.Equal(t, "complete", evs[len(evs)-1].Event, "last event of the spawn")
	status, _ = s.send(http.MethodPost, "/labs/rachel/create", []string{token}, createBody("rachel"))
	assert.Equal(t, http.StatusConflict, status, "second create")
	for _, path := range []string{"/labs/rachel", "/user-status", "/labs"} {
		status, _ := s.send(http.MethodGet, path, nil, "")
		assert.Equal(t, http.StatusOK, status, "GET %s", path)
	}

	// The secrets did reach the lab: the scenario handled them.
	labSecret, err := h.c.Client().CoreV1().Secrets(h.cfg.LabNamespace("rachel")).Get(context.Background(), "rachel-nb", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, token, string(labSecret.Data["token"]), "delegated token in the lab Secret")
	assert.Equal(t, values[0], string(labSecret.Data["butler-secret"]), "butler secret in the lab Secret")
	raw, err := json.Marshal(labSecret)
	require.NoError(t, err)
	assert.Contains(t, string(raw), base64.StdEncoding.EncodeToString([]byte(token)),
		"the base64 needles find a serialised Secret")
	s.kubernetesEvents()

	status, _ = s.send(http.MethodDelete, "/labs/rachel", nil, "")
	assert.Equal(t, http.StatusNoContent, status, "delete")
	s.stream()
	s.kubernetesEvents()

	var logLines []string
	for _, line := range strings.Split(strings.TrimSpace(h.log.String()), "\n") {
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "log line is not JSON: %s", line)
		logLines = append(logLines, line)
	}
	require.NotEmpty(t, logLines)
	s.texts = append(s.texts, logLines...)
	s.counts["log lines"] = len(logLines)

	needles := map[string]string{"delegated token": token, "refused token": bad, "token of Gafaelfawr down": down}
	for i, v := range values {
		needles[fmt.Sprintf("secret value %d", i)] = v
	}
	for name, v := range needles {
		needles[name+" (base64)"] = base64.StdEncoding.EncodeToString([]byte(v))
	}
	leaks := 0
	for _, text := range s.texts {
		for name, v := range needles {
			if strings.Contains(text, v) {
				leaks++
				t.Errorf("%s appears in: %.400s", name, text)
			}
		}
	}
	assert.Zero(t, leaks)
	t.Logf("checked %d texts (%v) for %d secret strings", len(s.texts), s.counts, len(needles))
}
