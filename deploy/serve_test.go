package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/cli"
	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testkit"
)

// The controller's identity in the local overlay.
const (
	controllerNamespace = "nublado"
	controllerAccount   = "nublado-controller"
	controllerUser      = "system:serviceaccount:" + controllerNamespace + ":" + controllerAccount
)

// accountKubeconfig writes a kubeconfig that authenticates as the
// controller's ServiceAccount with a token from the TokenRequest API, as
// the token a pod of the Deployment gets: no admin rights.
func accountKubeconfig(t *testing.T, ctx context.Context) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, devstack.AccountKubeconfig(ctx, cluster.Config(), controllerNamespace, controllerAccount, time.Hour, path))
	return path
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer = testkit.SyncBuffer

// addressHook catches the address of "Serving the spawner API".
type addressHook chan string

func (h addressHook) Levels() []logrus.Level { return logrus.AllLevels }

func (h addressHook) Fire(e *logrus.Entry) error {
	if addr, ok := e.Data["address"].(string); ok && e.Message == "Serving the spawner API" {
		select {
		case h <- addr:
		default:
		}
	}
	return nil
}

// controller is `nublado serve` running in process, as the production
// command line runs it.
type controller struct {
	t    *testing.T
	base string // http://127.0.0.1:port
	logs *syncBuffer
	stop context.CancelFunc
	done chan error
}

// startController runs `nublado serve --config config --kubeconfig
// kubeconfig` (plus args) until stopped, and returns once it serves.
func startController(t *testing.T, config, kubeconfig string, args ...string) *controller {
	t.Helper()
	logs := &syncBuffer{}
	log := logrus.New()
	addr := make(addressHook, 1)
	log.AddHook(addr)
	root := cli.NewRoot(log)
	root.SetArgs(append([]string{"serve", "--config", config, "--kubeconfig", kubeconfig, "--listen", "127.0.0.1:0"}, args...))
	root.SetOut(logs)
	root.SetErr(logs)
	ctx, stop := context.WithCancel(context.Background())
	c := &controller{t: t, logs: logs, stop: stop, done: make(chan error, 1)}
	go func() { c.done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		c.stop()
		<-c.done
		if t.Failed() {
			t.Logf("controller logs:\n%s", logs.String())
		}
	})
	select {
	case a := <-addr:
		c.base = "http://" + a
	case err := <-c.done:
		c.done <- err
		t.Fatalf("nublado serve exited early: %v\n%s", err, logs.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("nublado serve did not start:\n%s", logs.String())
	}
	return c
}

// shutdown stops the controller and waits for it to exit cleanly.
func (c *controller) shutdown() {
	c.t.Helper()
	c.stop()
	select {
	case err := <-c.done:
		c.done <- err
		require.NoError(c.t, err, "nublado serve:\n%s", c.logs.String())
	case <-time.After(time.Minute):
		c.t.Fatal("nublado serve did not stop")
	}
}

// call sends a request with the headers Gafaelfawr's ingress adds for
// user ("" for none) and returns the status and body.
func (c *controller) call(method, path, user, body string) (int, string) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if user != "" {
		req.Header.Set("X-Auth-Request-User", user)
		req.Header.Set("X-Auth-Request-Token", user) // the stand-in's token is the name
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err, "%s %s", method, path)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp.StatusCode, string(data)
}

// expect is call that requires a status.
func (c *controller) expect(method, path, user, body string, status int) string {
	c.t.Helper()
	got, data := c.call(method, path, user, body)
	require.Equal(c.t, status, got, "%s %s: %s", method, path, data)
	return data
}

// Route prefixes of the spawner API (default pathPrefix).
const (
	spawner     = "/nublado/spawner/v1"
	fileservers = "/nublado/fileserver/v1"
	fsadmin     = "/nublado/fsadmin/v1/service"
)

// spawn creates a user's lab and follows its events to the end; the last
// event must be complete.
func (c *controller) spawn(user string) {
	c.t.Helper()
	spec := fmt.Sprintf(`{"options": {"image_class": "recommended", "size": "small"}, "env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/%s/"}}`, user)
	c.expect(http.MethodPost, spawner+"/labs/"+user+"/create", user, spec, http.StatusCreated)
	req, err := http.NewRequest(http.MethodGet, c.base+spawner+"/labs/"+user+"/events", nil)
	require.NoError(c.t, err)
	req.Header.Set("X-Auth-Request-User", user)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode)
	var last, data string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if t, ok := strings.CutPrefix(line, "event: "); ok {
			last = t
		}
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			data = d
		}
	}
	require.Equal(c.t, "complete", last, "the spawn of %s ends with complete, not %s", user, data)
}
