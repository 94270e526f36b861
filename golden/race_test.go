package golden_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// commonRequest returns the configuration, environment and a lab request
// for the common inputs, built as the lab manager builds them.
func commonRequest(t *testing.T) (*schema.Config, schema.Environment, schema.LabRequest) {
	var env map[string]string
	data, err := os.ReadFile(filepath.Join("testdata", commonDir, "env.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &env))
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := schema.Load(filepath.Join("testdata", commonDir, "config.yaml"), schema.WithLookupEnv(lookup))
	require.NoError(t, err)
	environment, _ := schema.ReadEnvironment(lookup)

	var plain map[string]map[string]string
	data, err = os.ReadFile(filepath.Join("testdata", commonDir, "secrets.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &plain))
	secrets := map[string]map[string][]byte{}
	for name, keys := range plain {
		secrets[name] = map[string][]byte{}
		for k, v := range keys {
			secrets[name][k] = []byte(v)
		}
	}
	discovery, err := os.ReadFile(filepath.Join("testdata", commonDir, "discovery.json"))
	require.NoError(t, err)
	req := schema.LabRequest{
		Token: token, Size: "medium", Namespace: "nublado",
		Env: map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/x/"},
		Image: schema.LabImage{Reference: "registry.example.org/lsst-sqre/sciplat-lab:w_2077_44",
			Digest: "sha256:44", DisplayName: "Weekly 2077_44"},
		Secrets:    secrets,
		PullSecret: &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: secrets["registry-pull"]},
		Discovery:  discovery,
	}
	return cfg, environment, req
}

// userRequest is req for user number i.
func userRequest(req schema.LabRequest, i int) schema.LabRequest {
	uid, gid := int64(20000+i), int64(30000+i)
	name := fmt.Sprintf("User %d", i)
	req.User = nublado.User{
		Username: fmt.Sprintf("user%02d", i), Name: &name, UID: &uid, GID: &gid,
		Groups: []nublado.Group{{Name: fmt.Sprintf("user%02d", i), ID: gid}, {Name: "everyone", ID: 100 + int64(i)}},
		Quota:  &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: float64(4 + i), Memory: float64(8 + i), Spawn: true}},
	}
	req.Env = map[string]string{"JUPYTERHUB_SERVICE_PREFIX": fmt.Sprintf("/nb/user/user%02d/", i)}
	return req
}

// renderJSON builds the input of a request and renders it as JSON.
func renderJSON(cfg *schema.Config, env schema.Environment, r *engine.Renderer, req schema.LabRequest) ([]byte, error) {
	in, err := cfg.LabInput(env, req)
	if err != nil {
		return nil, err
	}
	objs, err := r.Render("lab", in)
	if err != nil {
		return nil, err
	}
	return engine.MarshalJSON(objs)
}

// TestConcurrentLabInputs builds and renders the labs of 16 users in 16
// goroutines at once, several times each, and compares every result with
// the serial render of the same user (run it with -race).
func TestConcurrentLabInputs(t *testing.T) {
	const users, rounds = 16, 4
	cfg, env, base := commonRequest(t)
	r, err := engine.New(nublado.CUE, engine.Config(cfg))
	require.NoError(t, err)

	serial := make([][]byte, users)
	for i := range users {
		serial[i], err = renderJSON(cfg, env, r, userRequest(base, i))
		require.NoError(t, err, "serial render of user %d", i)
	}
	require.NotEqual(t, serial[0], serial[1], "different users render differently")

	got := make([][][]byte, users)
	errs := make([]error, users)
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				out, err := renderJSON(cfg, env, r, userRequest(base, i))
				if err != nil {
					errs[i] = err
					return
				}
				got[i] = append(got[i], out)
			}
		}()
	}
	wg.Wait()
	for i := range users {
		require.NoError(t, errs[i], "concurrent render of user %d", i)
		for _, out := range got[i] {
			assert.Equal(t, string(serial[i]), string(out), "concurrent render of user %d", i)
		}
	}
}
