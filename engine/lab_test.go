package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
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
	return readConfigFile(t, "config.json")
}

func readConfigFile(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "lab", name))
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

// TestLabTemplateMinimal renders a lab with a configuration that uses no
// optional feature (testdata/lab/config-minimal.json: no volumes, files,
// secrets, pull secret, init containers, application, affinity or node
// selector; /tmp on disk) for a user without display name or quota.
func TestLabTemplateMinimal(t *testing.T) {
	r, err := engine.New(nublado.CUE, engine.Config(readConfigFile(t, "config-minimal.json")), engine.Strict())
	require.NoError(t, err, "New(nublado.CUE)")
	user := schema.User{Username: "bot-mobu", UID: 90001, GID: 90001}
	image := schema.Image{Reference: "docker.io/lsstsqre/sciplat-lab:r29@sha256:abc", Digest: "sha256:abc", Description: "Release r29"}
	size := schema.ResolvedSize{Name: "small", Label: "Small (1.0 CPU, 3Gi RAM)",
		Limits:       schema.Quantities{CPU: "1.0", Memory: "3221225472"},
		Requests:     schema.Quantities{CPU: "0.25", Memory: "805306368"},
		TmpSizeLimit: "805306368"}
	discovery, err := schema.DiscoveryFile([]byte(`{}`))
	require.NoError(t, err)
	in := schema.LabInput{
		User: user, Namespace: "nublado-bot-mobu", Image: image, Size: size,
		Env: schema.LabEnv(schema.LabEnvParams{
			SpawnerEnv:              map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/bot-mobu/"},
			Image:                   image,
			Size:                    size,
			ActivityIntervalSeconds: 3600,
			BaseURL:                 "http://127.0.0.1:8080",
			JupyterlabConfigDir:     "/opt/lsst/software/jupyterlab",
			LabStartCommand:         []string{"/opt/lsst/software/jupyterlab/runlab.sh"},
			RuntimeMountsDir:        "/etc/nublado",
		}),
		HomeDirectory:    schema.HomeDirectory("/home", "username", "", user.Username),
		GroupsAnnotation: schema.GroupsAnnotation(nil),
		DiscoveryFile:    discovery,
		SecretData:       map[string][]byte{"token": []byte("gt-bot")},
		ControllerImage:  schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:11.1.1", PullPolicy: "Always"},
	}
	objs, err := r.Render("lab", in)
	var rerr *engine.RenderError
	if errors.As(err, &rerr) {
		t.Log(rerr.Details())
	}
	require.NoError(t, err, "Render(lab)")
	y, err := engine.MarshalYAML(objs)
	require.NoError(t, err)
	golden.Assert(t, string(y), "lab-minimal.golden.yaml")
}

// BenchmarkRenderLab renders the real lab template (13 objects with the
// site of testdata/lab/config.json) for alternating users: the request path.
func BenchmarkRenderLab(b *testing.B) {
	benchmarkRenderLab(b)
}

// BenchmarkRenderLabStrict is BenchmarkRenderLab with every object checked
// against its Kubernetes schema (golden tests, nublado render --strict).
func BenchmarkRenderLabStrict(b *testing.B) {
	benchmarkRenderLab(b, engine.Strict())
}

// BenchmarkNewLab compiles the embedded module with the site of
// testdata/lab/config.json, and renders once: what a controller pays at
// start-up (the first render fills the export's caches).
func BenchmarkNewLab(b *testing.B) {
	for _, strict := range []bool{false, true} {
		name := "plain"
		opts := []engine.Option{engine.Config(readConfig(b))}
		if strict {
			name = "strict"
			opts = append(opts, engine.Strict())
		}
		b.Run(name, func(b *testing.B) {
			in := labTestInput(b, 0)
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				r, err := engine.New(nublado.CUE, opts...)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := r.Render("lab", in); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

func benchmarkRenderLab(b *testing.B, opts ...engine.Option) {
	r, err := engine.New(nublado.CUE, append(opts, engine.Config(readConfig(b)))...)
	require.NoError(b, err)
	inputs := []schema.LabInput{labTestInput(b, 0), labTestInput(b, 1)}
	b.ReportAllocs()
	start := cpuTime()
	i := 0
	for b.Loop() {
		if _, err := r.Render("lab", inputs[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCPU(b, start)
}

// TestLabTemplateConcurrent renders the real lab template from 16
// goroutines on one renderer; every result equals the serial render of the
// same input.
func TestLabTemplateConcurrent(t *testing.T) {
	const goroutines, perGoroutine = 16, 4
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)))
	require.NoError(t, err)
	want := make([]string, 2)
	for i := range want {
		objs, err := r.Render("lab", labTestInput(t, i))
		require.NoError(t, err)
		y, err := engine.MarshalYAML(objs)
		require.NoError(t, err)
		want[i] = string(y)
	}
	inputs := []schema.LabInput{labTestInput(t, 0), labTestInput(t, 1)}
	got := make([][]string, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for k := range perGoroutine {
				objs, err := r.Render("lab", inputs[(g+k)%2])
				if err != nil {
					errs[g] = err
					return
				}
				y, err := engine.MarshalYAML(objs)
				if err != nil {
					errs[g] = err
					return
				}
				got[g] = append(got[g], string(y))
			}
		})
	}
	wg.Wait()
	for g := range goroutines {
		require.NoError(t, errs[g], "goroutine %d", g)
		for k, y := range got[g] {
			require.Equal(t, want[(g+k)%2], y, "Render(lab) in goroutine %d, render %d", g, k)
		}
	}
}
