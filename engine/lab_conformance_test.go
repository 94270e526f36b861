//go:build conformance

package engine_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/resource"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// conformanceDir is ../shared/conformance/nublado-15.1.0 from the
// repository root.
var conformanceDir = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0")

func readConformance(t *testing.T, v any, parts ...string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(append([]string{conformanceDir}, parts...)...))
	require.NoError(t, err)
	if strings.HasSuffix(parts[len(parts)-1], ".yaml") {
		data, err = yaml.YAMLToJSON(data)
		require.NoError(t, err)
	}
	require.NoError(t, utiljson.Unmarshal(data, v), "decoding %s", filepath.Join(parts...))
}

// standInConfig turns a conformance config YAML into the JSON shape of
// schema.Config for the lab keys the template reads, applying Nublado's
// defaults. It stands in for schema.Load, which lands with the config
// schema: replace it then.
func standInConfig(t *testing.T, name string) map[string]any {
	var cfg map[string]any
	readConformance(t, &cfg, "controller", "config", name)
	lab := cfg["lab"].(map[string]any)
	defaults := map[string]any{
		"emptyDirSource": "memory", "env": map[string]any{}, "extraAnnotations": map[string]any{},
		"files": map[string]any{}, "homeVolumeName": "home", "initContainers": []any{},
		"labStartCommand":      []any{"/opt/lsst/software/jupyterlab/runlab.sh"},
		"namespaceAnnotations": map[string]any{}, "nodeSelector": map[string]any{},
		"nss":              map[string]any{"basePasswd": "root:x:0:0:root:/root:/bin/bash\n", "baseGroup": "root:x:0\n"},
		"runtimeMountsDir": "/etc/nublado", "secrets": []any{}, "standardInithome": false,
		"tolerations": []any{}, "volumes": []any{}, "volumeMounts": []any{},
	}
	for k, v := range defaults {
		if _, ok := lab[k]; !ok {
			lab[k] = v
		}
	}
	mounts := func(list []any) {
		for _, m := range list {
			if _, ok := m.(map[string]any)["readOnly"]; !ok {
				m.(map[string]any)["readOnly"] = false
			}
		}
	}
	mounts(lab["volumeMounts"].([]any))
	for _, c := range lab["initContainers"].([]any) {
		c := c.(map[string]any)
		if _, ok := c["privileged"]; !ok {
			c["privileged"] = false
		}
		if _, ok := c["volumeMounts"]; !ok {
			c["volumeMounts"] = []any{}
		}
		mounts(c["volumeMounts"].([]any))
		if image := c["image"].(map[string]any); image["pullPolicy"] == nil {
			image["pullPolicy"] = "IfNotPresent"
		}
	}
	for _, tol := range lab["tolerations"].([]any) {
		if tol := tol.(map[string]any); tol["operator"] == nil {
			tol["operator"] = "Equal"
		}
	}
	return cfg
}

// pythonFloat formats f as Python's str(float).
func pythonFloat(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func quantityBytes(t *testing.T, v any) int64 {
	q, err := resource.ParseQuantity(fmt.Sprint(v))
	require.NoError(t, err)
	return q.Value()
}

// TestLabConformance renders the lab of conformance controller/objects/lab.json
// from the inputs listed in the conformance README and compares the objects
// as JSON (the ServiceAccount, status stanzas and <ANY> values excepted).
func TestLabConformance(t *testing.T) {
	cfg := standInConfig(t, "standard.yaml")
	lab := cfg["lab"].(map[string]any)

	var user struct {
		Username string             `json:"username"`
		Name     *string            `json:"name"`
		UID      int64              `json:"uid"`
		GID      int64              `json:"gid"`
		Groups   []schema.UserGroup `json:"groups"`
		Quota    struct {
			Notebook *struct {
				CPU    float64 `json:"cpu"`
				Memory float64 `json:"memory"`
			} `json:"notebook"`
		} `json:"quota"`
	}
	readConformance(t, &user, "controller", "users", "rachel.json")
	var spec struct {
		Options map[string]string `json:"options"`
		Env     map[string]string `json:"env"`
	}
	readConformance(t, &spec, "controller", "base", "lab-specification.json")
	var secrets map[string]map[string]string
	readConformance(t, &secrets, "controller", "base", "secrets.json")
	discoveryDoc, err := os.ReadFile(filepath.Join(conformanceDir, "discovery.json"))
	require.NoError(t, err)
	discovery, err := schema.DiscoveryFile(discoveryDoc)
	require.NoError(t, err)

	// The image the images package resolves the request's
	// …:latest_daily@sha256:1234 to, with registry/docker.json.
	image := schema.Image{
		Reference:   "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234",
		Digest:      "sha256:1234",
		Description: "Daily 2077_10_23",
	}
	var size map[string]any
	for _, s := range lab["sizes"].([]any) {
		if s.(map[string]any)["size"] == spec.Options["size"] {
			size = s.(map[string]any)["resources"].(map[string]any)
		}
	}
	require.NotNil(t, size, "size %q in %v", spec.Options["size"], lab["sizes"])
	quantities := func(k string) schema.Quantities {
		m := size[k].(map[string]any)
		return schema.Quantities{CPU: pythonFloat(toFloat(m["cpu"])), Memory: fmt.Sprint(quantityBytes(t, m["memory"]))}
	}
	limitBytes := quantityBytes(t, size["limits"].(map[string]any)["memory"])
	resolved := schema.ResolvedSize{
		Name: spec.Options["size"], Label: "Small (1.0 CPU, 3Gi RAM)",
		Limits: quantities("limits"), Requests: quantities("requests"),
		TmpSizeLimit: fmt.Sprint(limitBytes / 4),
	}
	home := schema.HomeDirectory("/home", "username", "", user.Username)
	labEnv := map[string]string{}
	for k, v := range lab["env"].(map[string]any) {
		labEnv[k] = v.(string)
	}
	secretData := map[string][]byte{"token": []byte("delegated-token")}
	for _, s := range lab["secrets"].([]any) {
		s := s.(map[string]any)
		secretData[s["secretKey"].(string)] = []byte(secrets[s["secretName"].(string)][s["secretKey"].(string)])
	}
	pull := map[string][]byte{}
	for k, v := range secrets[lab["pullSecret"].(string)] {
		pull[k] = []byte(v)
	}
	in := schema.LabInput{
		User:      schema.User{Username: user.Username, Name: user.Name, UID: user.UID, GID: user.GID, Groups: user.Groups},
		Namespace: "userlabs-" + user.Username,
		Image:     image,
		Size:      resolved,
		Quota: &schema.Quantities{CPU: pythonFloat(user.Quota.Notebook.CPU),
			Memory: fmt.Sprint(int64(user.Quota.Notebook.Memory * (1 << 30)))},
		Env: schema.LabEnv(schema.LabEnvParams{
			SpawnerEnv: spec.Env, Image: image, Size: resolved,
			ActivityIntervalSeconds: 7200, // activityInterval: 2h
			BaseURL:                 "http://127.0.0.1:8080",
			JupyterlabConfigDir:     "/opt/lsst/software/jupyterlab",
			LabStartCommand:         []string{"/opt/lsst/software/jupyterlab/runlab.sh"},
			RuntimeMountsDir:        "/etc/nublado",
			RepertoireBaseURL:       "https://example.com/repertoire",
			LabEnv:                  labEnv,
		}),
		HomeDirectory:    home,
		GroupsAnnotation: schema.GroupsAnnotation(user.Groups),
		DiscoveryFile:    discovery,
		SecretData:       secretData,
		PullSecret:       &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: pull},
		ControllerImage:  schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:11.1.1", PullPolicy: "IfNotPresent"},
	}

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

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	panic(fmt.Sprintf("not a number: %T", v))
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
