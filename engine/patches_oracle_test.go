package engine_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
)

// oracleObjects reads the objects of testdata/patches/oracle/objects.yaml
// as unstructured JSON, with an integral float (a CUE float such as 2.0)
// and a large integer added to the Deployment.
func oracleObjects(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "patches", "oracle", "objects.yaml"))
	require.NoError(t, err)
	var objs []*unstructured.Unstructured
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		j, err := yaml.YAMLToJSON(doc)
		require.NoError(t, err)
		obj := &unstructured.Unstructured{}
		require.NoError(t, obj.UnmarshalJSON(j))
		objs = append(objs, obj)
	}
	deployment := objs[len(objs)-1]
	require.NoError(t, unstructured.SetNestedField(deployment.Object, float64(2), "spec", "minReadySeconds"))
	require.NoError(t, unstructured.SetNestedField(deployment.Object, int64(9007199254740993), "spec", "progressDeadlineSeconds"))
	return objs
}

// oraclePatches are patches files whose targets and patches cover
// kustomize's selection (regular expressions of kind, name, namespace,
// group and version, the default namespace, cluster-scoped objects,
// label and annotation selectors, a selection that depends on a previous
// patch) and patching (merges by key, deletions, nulls, renames that
// kustomize follows into references, JSON 6902 on numbers and empty
// annotations).
var oraclePatches = map[string]string{
	"kind regex": `
patches:
  - target: {kind: Config.*, name: "a|b"}
    patch: '[{"op": "add", "path": "/data/p", "value": "x"}]'`,
	"name regex partial": `
patches:
  - target: {name: "^we"}
    patch: '[{"op": "add", "path": "/metadata/labels/p", "value": "x"}]'`,
	"namespace": `
patches:
  - target: {namespace: beta}
    patch: '[{"op": "add", "path": "/metadata/labels/p", "value": "x"}]'`,
	"default namespace": `
patches:
  - target: {namespace: default}
    patch: '[{"op": "add", "path": "/metadata/labels/p", "value": "x"}]'`,
	"cluster-scoped": `
patches:
  - target: {version: v1, kind: Namespace}
    patch: |-
      apiVersion: v1
      kind: Namespace
      metadata: {name: any, labels: {p: x}}`,
	"group": `
patches:
  - target: {group: apps, version: v1}
    patch: '[{"op": "replace", "path": "/spec/replicas", "value": 3}]'`,
	"core group": `
patches:
  - target: {group: ""}
    patch: '[{"op": "add", "path": "/metadata/labels/core", "value": "yes"}]'`,
	"label selectors": `
patches:
  - target: {labelSelector: x=1}
    patch: '[{"op": "add", "path": "/metadata/labels/eq", "value": "x"}]'
  - target: {labelSelector: "x in (1,2),tier!=db"}
    patch: '[{"op": "add", "path": "/metadata/labels/in", "value": "x"}]'
  - target: {labelSelector: "!x"}
    patch: '[{"op": "add", "path": "/metadata/labels/nox", "value": "x"}]'
  - target: {kind: ConfigMap, annotationSelector: team=sci}
    patch: '[{"op": "add", "path": "/data/team", "value": "sci"}]'`,
	"selected by a previous patch": `
patches:
  - target: {kind: Service}
    patch: |-
      apiVersion: v1
      kind: Service
      metadata: {name: svc, labels: {patched: "yes"}}
  - target: {labelSelector: patched=yes}
    patch: '[{"op": "add", "path": "/spec/ports/-", "value": {"port": 443}}]'`,
	"strategic merge by key": `
patches:
  - target: {kind: Deployment}
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        template:
          spec:
            containers:
              - name: app
                env: [{name: B, value: "3"}, {name: C, value: "4"}]
                resources: {limits: {cpu: null}}
            volumes:
              - name: extra
                emptyDir: {}
            tolerations: [{key: other, operator: Exists}]`,
	"strategic merge deletes": `
patches:
  - target: {kind: ConfigMap, name: b}
    patch: |-
      $patch: delete
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: b}
  - target: {kind: Deployment}
    patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        template:
          spec:
            containers:
              - name: sidecar
                $patch: delete`,
	"strategic merge on nulls and strings": `
patches:
  - target: {kind: ConfigMap, name: a}
    patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: a}
      data: {k: null, n2: "0x1F", b: "on"}
  - target: {kind: Service}
    patch: |-
      apiVersion: v1
      kind: Service
      metadata: {name: svc, annotations: {a: b}}
      spec: {type: ClusterIP}`,
	"json 6902 on numbers": `
patches:
  - target: {kind: Deployment}
    patch: |-
      - op: add
        path: /spec/revisionHistoryLimit
        value: 1.0
      - op: copy
        from: /spec/progressDeadlineSeconds
        path: /spec/paused2
      - op: test
        path: /spec/replicas
        value: 1`,
	"json 6902 on empty annotations": `
patches:
  - target: {kind: Service}
    patch: '[{"op": "add", "path": "/spec/sessionAffinity", "value": "None"}]'`,
	"rename followed by references": `
patches:
  - target: {kind: ConfigMap, name: a}
    patch: '[{"op": "replace", "path": "/metadata/name", "value": "a2"}]'`,
	"name change allowed": `
patches:
  - target: {kind: ConfigMap, name: b}
    options: {allowNameChange: true}
    patch: |-
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: b3}`,
	"kind change refused": `
patches:
  - target: {kind: ConfigMap, name: b}
    patch: |-
      apiVersion: v1
      kind: Secret
      metadata: {name: b}
      data: {k: dg==}`,
	"patch a kustomize annotation": `
patches:
  - target: {kind: ConfigMap, name: a}
    patch: '[{"op": "add", "path": "/metadata/annotations", "value": {"config.kubernetes.io/local-config": "true"}}]'`,
	"failing operation": `
patches:
  - target: {kind: Service}
    patch: '[{"op": "replace", "path": "/spec/missing/field", "value": 1}]'`,
	"failing test": `
patches:
  - target: {kind: Deployment}
    patch: '[{"op": "test", "path": "/spec/replicas", "value": 2}]'`,
	"no match": `
patches:
  - target: {kind: Job}
    patch: '[{"op": "add", "path": "/spec/x", "value": 1}]'`,
}

// assertSameAsKrusty applies p with Apply and with `kustomize build` and
// requires the same objects, or errors from both.
func assertSameAsKrusty(t *testing.T, p *engine.Patches, objs []*unstructured.Unstructured) {
	t.Helper()
	want, wantErr := engine.ApplyKrusty(p, objs)
	got, err := p.Apply(objs)
	if wantErr != nil {
		require.Error(t, err, "kustomize fails: %v", wantErr)
		assert.Contains(t, err.Error(), "applying site patches")
		return
	}
	require.NoError(t, err)
	require.Equal(t, objects(want), objects(got))
}

// TestPatchesKrustyOracle: Apply returns what `kustomize build` returns,
// for each target and patch of oraclePatches on the oracle objects, and
// leaves its input alone.
func TestPatchesKrustyOracle(t *testing.T) {
	require.False(t, engine.NeedsKrusty(oracleObjects(t)), "Apply patches the objects itself")
	for name, file := range oraclePatches {
		t.Run(name, func(t *testing.T) {
			p, err := engine.ParsePatches([]byte(file))
			require.NoError(t, err)
			objs := oracleObjects(t)
			assertSameAsKrusty(t, p, objs)
			assert.Equal(t, objects(oracleObjects(t)), objects(objs), "the input is not changed")
		})
	}
}

// TestPatchesKrustyOracleInputs: inputs that `kustomize build` refuses or
// treats specially (a list, a duplicate, an object without a name,
// kustomize's own annotations) give what it gives.
func TestPatchesKrustyOracleInputs(t *testing.T) {
	p, err := engine.ParsePatches([]byte(oraclePatches["label selectors"]))
	require.NoError(t, err)
	for name, edit := range map[string]func([]*unstructured.Unstructured) []*unstructured.Unstructured{
		"duplicate": func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			return append(objs, objs[0].DeepCopy())
		},
		"no name": func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			objs[1].SetName("")
			return objs
		},
		"list": func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			items := []any{objs[0].Object, objs[1].Object}
			return append(objs[2:], &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "v1", "kind": "ConfigMapList", "metadata": map[string]any{}, "items": items,
			}})
		},
		"local config": func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			objs[3].SetAnnotations(map[string]string{"config.kubernetes.io/local-config": "true"})
			return objs
		},
		"null annotations": func(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
			objs[3].Object["metadata"].(map[string]any)["annotations"] = nil
			return objs
		},
	} {
		t.Run(name, func(t *testing.T) {
			assertSameAsKrusty(t, p, edit(oracleObjects(t)))
		})
	}
}

// TestPatchesKrustyOracleLab: the site patches of the golden test on
// the real lab template, for both test users.
func TestPatchesKrustyOracleLab(t *testing.T) {
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)))
	require.NoError(t, err)
	for _, file := range []string{
		filepath.Join("testdata", "patches", "site.yaml"),
		filepath.Join("..", "deploy", "overlays", "site-example", "patches.yaml"),
	} {
		p := readPatches(t, file)
		for i := range 2 {
			objs, err := r.Render("lab", labTestInput(t, i))
			require.NoError(t, err)
			require.False(t, engine.NeedsKrusty(objs), "Apply patches the objects itself")
			assertSameAsKrusty(t, p, objs)
		}
	}
}

// TestPatchesConcurrent: one Patches applied from several goroutines (the
// parsed patches are shared) gives every goroutine the serial result.
func TestPatchesConcurrent(t *testing.T) {
	p := readPatches(t, filepath.Join("testdata", "patches", "site.yaml"))
	r, err := engine.New(nublado.CUE, engine.Config(readConfig(t)), engine.WithPatches(p))
	require.NoError(t, err)
	want := make([][]any, 2)
	for i := range want {
		objs, err := r.Render("lab", labTestInput(t, i))
		require.NoError(t, err)
		want[i] = objects(objs)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			objs, err := r.Render("lab", labTestInput(t, g%2))
			if err == nil && !assert.Equal(t, want[g%2], objects(objs)) {
				err = fmt.Errorf("goroutine %d: a different result", g)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
