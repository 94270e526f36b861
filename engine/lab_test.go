package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// readConfig returns testdata/lab/config.json, the controller configuration
// of an invented site (schema.Config's JSON shape) that uses every lab
// feature.
func readConfig(t testing.TB) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lab", "config.json"))
	require.NoError(t, err)
	var cfg map[string]any
	// utiljson decodes integers as int64, as schema.Config holds them.
	require.NoError(t, utiljson.Unmarshal(data, &cfg))
	return cfg
}

// labTestInput is the lab input for user i of the site of readConfig.
func labTestInput(t testing.TB, i int) schema.LabInput {
	t.Helper()
	username := []string{"wanda", "ribbon"}[i%2]
	name := "Wanda Ward"
	user := schema.User{Username: username, UID: 2000 + int64(i), GID: 2000 + int64(i),
		Groups: []schema.UserGroup{{Name: username, ID: 2000 + int64(i)}, {Name: "g_science", ID: 3000}, {Name: "ünïcode", ID: 3001}}}
	if i%2 == 0 {
		user.Name = &name
	}
	image := schema.Image{
		Reference:   "registry.example.org/lab/sciplat-lab:w_2077_43@sha256:" + fmtDigest(i),
		Digest:      "sha256:" + fmtDigest(i),
		Description: "Weekly 2077_43",
	}
	size := schema.ResolvedSize{Name: "medium", Label: "Medium (2.0 CPU, 6Gi RAM)",
		Limits:       schema.Quantities{CPU: "2.0", Memory: "6442450944"},
		Requests:     schema.Quantities{CPU: "0.5", Memory: "1610612736"},
		TmpSizeLimit: "1610612736"}
	discovery, err := schema.DiscoveryFile([]byte(`{"services": {"internal": {"gafaelfawr": {"url": "https://rsp.example.org/auth/api"}}}}`))
	require.NoError(t, err)
	home := schema.HomeDirectory("/home", "initialThenUsername", "", username)
	in := schema.LabInput{
		User:      user,
		Namespace: "labs-" + username,
		Image:     image,
		Size:      size,
		Env: schema.LabEnv(schema.LabEnvParams{
			SpawnerEnv:              map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/" + username + "/"},
			Debug:                   i%2 == 1,
			Image:                   image,
			Size:                    size,
			ActivityIntervalSeconds: 3600,
			BaseURL:                 "https://rsp.example.org",
			JupyterlabConfigDir:     "/opt/lab",
			LabStartCommand:         []string{"/opt/lab/start.sh", "--no browser"},
			RuntimeMountsDir:        "/etc/lab",
			LabEnv:                  map[string]string{"RSP_SITE_TYPE": "science", "HUB_ROUTE": "/nb/hub"},
		}),
		HomeDirectory:        home,
		GroupsAnnotation:     schema.GroupsAnnotation(user.Groups),
		DiscoveryFile:        discovery,
		NamespaceAnnotations: schema.NamespaceAnnotations(map[string]string{"example.org/uid-range": "{{uid}}/1"}, user.UID, user.GID),
		SecretData: map[string][]byte{
			"butler":      []byte("butler secret"),
			"db-password": []byte("hunter2"),
			"token":       []byte("gt-token-" + username),
		},
		PullSecret: &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson",
			Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		ControllerImage: schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:11.1.1", PullPolicy: "IfNotPresent"},
	}
	if i%2 == 0 {
		in.Quota = &schema.Quantities{CPU: "9.0", Memory: "28991029248"}
	}
	return in
}

func fmtDigest(i int) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 64)
	for k := range b {
		b[k] = hex[(i+k)%16]
	}
	return string(b)
}

// TestLabTemplate renders the real lab template of the embedded module in
// strict mode (every object checked against its Kubernetes schema) and
// compares it with the golden file.
func TestLabTemplate(t *testing.T) {
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)), engine.Strict())
	require.NoError(t, err, "New(nublado.CUE)")
	for i, name := range []string{"lab-wanda.golden.yaml", "lab-ribbon.golden.yaml"} {
		objs, err := r.Render("lab", labTestInput(t, i))
		var rerr *engine.RenderError
		if errors.As(err, &rerr) {
			t.Log(rerr.Details())
		}
		require.NoError(t, err, "Render(lab)")
		y, err := engine.MarshalYAML(objs)
		require.NoError(t, err)
		golden.Assert(t, string(y), name)
	}
}
