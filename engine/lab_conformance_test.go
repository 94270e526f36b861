//go:build conformance

package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// conformanceDir is ../shared/conformance/nublado-15.1.0 from the
// repository root.
var conformanceDir = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0")

func readConformance(t testing.TB, v any, parts ...string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{conformanceDir}, parts...)...))
	require.NoError(t, err)
	if strings.HasSuffix(parts[len(parts)-1], ".yaml") {
		data, err = yaml.YAMLToJSON(data)
		require.NoError(t, err)
	}
	require.NoError(t, utiljson.Unmarshal(data, v), "decoding %s", filepath.Join(parts...))
}

// conformanceLab returns the configuration (standard.yaml) and the lab
// input of conformance controller/objects/lab.json.
func conformanceLab(t testing.TB) (*schema.Config, *schema.LabInput) {
	t.Helper()
	env := map[string]string{
		"REPERTOIRE_BASE_URL":            "https://example.com/repertoire",
		"NUBLADO_CONTROLLER_REPOSITORY":  "ghcr.io/lsst-sqre/nublado",
		"NUBLADO_CONTROLLER_TAG":         "11.1.1",
		"NUBLADO_CONTROLLER_PULL_POLICY": "IfNotPresent",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := schema.Load(filepath.Join(conformanceDir, "controller", "config", "standard.yaml"), schema.WithLookupEnv(lookup))
	require.NoError(t, err, "schema.Load(standard.yaml)")
	environment, _ := schema.ReadEnvironment(lookup)

	var user nublado.User
	readConformance(t, &user, "controller", "users", "rachel.json")
	var spec struct {
		Options map[string]string `json:"options"`
		Env     map[string]string `json:"env"`
	}
	readConformance(t, &spec, "controller", "base", "lab-specification.json")
	var plain map[string]map[string]string
	readConformance(t, &plain, "controller", "base", "secrets.json")
	secrets := map[string]map[string][]byte{}
	for name, keys := range plain {
		secrets[name] = map[string][]byte{}
		for k, v := range keys {
			secrets[name][k] = []byte(v)
		}
	}
	discovery, err := os.ReadFile(filepath.Join(conformanceDir, "discovery.json"))
	require.NoError(t, err)

	in, err := cfg.LabInput(environment, schema.LabRequest{
		User: user, Token: "delegated-token", Size: nublado.LabSize(spec.Options["size"]), Env: spec.Env,
		// The image the images package resolves the request's
		// …:latest_daily@sha256:1234 to, with registry/docker.json.
		Image: schema.LabImage{Reference: "lighthouse.ceres/library/sketchbook:d_2077_10_23",
			Digest: "sha256:1234", DisplayName: "Daily 2077_10_23"},
		Namespace:  "nublado",
		Secrets:    secrets,
		PullSecret: &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: secrets["pull-secret"]},
		Discovery:  discovery,
	})
	require.NoError(t, err, "LabInput")
	return cfg, in
}

// TestLabConformance renders the lab of conformance controller/objects/lab.json
// from the inputs listed in the conformance README, loaded with schema.Load
// and built with Config.LabInput, and compares the objects as JSON (the
// ServiceAccount, status stanzas and <ANY> values excepted).
func TestLabConformance(t *testing.T) {
	cfg, in := conformanceLab(t)

	r, err := engine.New(nublado.CUE, engine.Config(cfg), engine.Strict())
	require.NoError(t, err, "New(nublado.CUE)")
	objs, err := r.Render("lab", in)
	if rerr := (*engine.RenderError)(nil); assertAs(err, &rerr) {
		t.Log(rerr.Details())
	}
	require.NoError(t, err, "Render(lab)")

	var want []map[string]any
	readConformance(t, &want, "controller", "objects", "lab.json")
	wantByID := map[string]map[string]any{}
	for _, o := range want {
		if o["kind"] == "ServiceAccount" {
			continue
		}
		delete(o, "status")
		wantByID[idOf(o)] = normalise(t, o)
	}
	got := map[string]map[string]any{}
	for _, o := range objs {
		got[idOf(o.Object)] = normalise(t, o.Object)
	}
	if token := wantByID["Secret/rachel-nb"]["data"].(map[string]any); token["token"] == "<ANY>" {
		got["Secret/rachel-nb"]["data"].(map[string]any)["token"] = "<ANY>"
	}
	for id, w := range wantByID {
		assert.Equal(t, toYAML(t, w), toYAML(t, got[id]), "Render(lab): %s: -want +got", id)
	}
	assert.Len(t, got, len(wantByID), "Render(lab): number of objects")
}

// BenchmarkRenderLabConformance renders the conformance lab (Nublado's
// standard.yaml configuration, through schema.Load and Config.LabInput):
// the request path of a typical site.
func BenchmarkRenderLabConformance(b *testing.B) {
	cfg, in := conformanceLab(b)
	r, err := engine.New(nublado.CUE, engine.Config(cfg))
	require.NoError(b, err)
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := r.Render("lab", in); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

func assertAs(err error, target **engine.RenderError) bool {
	if err == nil {
		return false
	}
	rerr, ok := err.(*engine.RenderError)
	*target = rerr
	return ok
}

func idOf(o map[string]any) string {
	return fmt.Sprintf("%s/%s", o["kind"], o["metadata"].(map[string]any)["name"])
}

func toYAML(t *testing.T, o map[string]any) string {
	if o == nil {
		return "missing\n"
	}
	data, err := yaml.Marshal(o)
	require.NoError(t, err)
	return string(data)
}

// normalise round-trips o through JSON so that numbers compare alike.
func normalise(t *testing.T, o map[string]any) map[string]any {
	data, err := json.Marshal(o)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}
