package labs_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

// fakeUsers is Gafaelfawr's user-info: token → user.
type fakeUsers map[string]*nublado.User

func (f fakeUsers) UserInfo(_ context.Context, token string) (*nublado.User, error) {
	if u, ok := f[token]; ok {
		return u, nil
	}
	return nil, errUnknownToken
}

var errUnknownToken = fmt.Errorf("user info: %w", gafaelfawr.ErrInvalidToken)

// api is the controller's HTTP API in front of a harness's manager.
type api struct {
	t   testing.TB
	h   *harness
	srv *httptest.Server
}

// newAPI serves server.New over the harness's manager; users authenticate
// with the token "token-of-{username}".
func newAPI(t testing.TB, h *harness, users ...nublado.User) *api {
	t.Helper()
	known := fakeUsers{}
	for _, u := range users {
		known["token-of-"+u.Username] = &u
	}
	log := logrus.New()
	log.SetOutput(h.log)
	srv := httptest.NewServer(server.New(h.cfg, h.m, known, logrus.NewEntry(log)))
	t.Cleanup(srv.Close)
	return &api{t: t, h: h, srv: srv}
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request as user (no auth headers when user is "").
func (a *api) do(method, path, user, body string) response {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.srv.URL+"/nublado/spawner/v1"+path, rd)
	require.NoError(a.t, err)
	if user != "" {
		req.Header.Set("X-Auth-Request-User", user)
		req.Header.Set("X-Auth-Request-Token", "token-of-"+user)
	}
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "example.com")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	return response{status: resp.StatusCode, header: resp.Header, body: string(data)}
}

// createBody is a create request body in JupyterHub's form-data shape.
func createBody(user string) string {
	body, _ := json.Marshal(map[string]any{
		"options": map[string]any{
			"image_list":     []string{"use_image_from_dropdown"},
			"image_dropdown": []string{imageRef + ":w_2077_43@" + digests["w_2077_43"]},
			"size":           []string{"small"},
		},
		"env": map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/" + user + "/"},
	})
	return string(body)
}

// sseEvent is one event of a stream as sent: its name and data string.
type sseEvent struct {
	Event string `json:"event"`
	Data  string `json:"data"`
}

// stream reads a user's event stream until it ends, sending each event to
// ch (if not nil) as it arrives, and returns all of them.
func (a *api) stream(ctx context.Context, user string, ch chan<- sseEvent) ([]sseEvent, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		a.srv.URL+"/nublado/spawner/v1/labs/"+user+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Request-User", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &nublado.Error{Message: "events: " + resp.Status}
	}
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case strings.HasPrefix(line, "event: "):
			cur.Event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			cur.Data = strings.TrimPrefix(line, "data: ")
		case line == "" && cur.Event != "":
			out = append(out, cur)
			if ch != nil {
				ch <- cur
			}
			cur = sseEvent{}
		}
	}
	return out, sc.Err()
}

// withoutKubernetesSSE drops the relayed Kubernetes Events (progress 35 to
// 74) from a stream; see withoutKubernetesEvents.
func withoutKubernetesSSE(t testing.TB, evs []sseEvent) []sseEvent {
	t.Helper()
	var out []sseEvent
	for _, ev := range evs {
		var d struct {
			Progress int `json:"progress"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &d), "event data %q", ev.Data)
		if ev.Event == "info" && d.Progress >= 35 && d.Progress < 75 {
			continue
		}
		out = append(out, ev)
	}
	return out
}
