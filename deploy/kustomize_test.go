package deploy_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/schema"
)

// kustomizations returns every directory under deploy/ that holds a
// kustomization.yaml, relative to deploy/.
func kustomizations(t *testing.T) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path == "local" {
			return fs.SkipDir // the Go module of the cluster binaries
		}
		if !d.IsDir() && d.Name() == "kustomization.yaml" {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(dirs)
	require.Subset(t, dirs, []string{"base", "base/fileservers", "overlays/local", "overlays/site-example"})
	return dirs
}

// build builds a kustomization as `kubectl kustomize` does (files outside
// the kustomization's root are refused) and returns its objects.
func build(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := devstack.Build(dir)
	require.NoError(t, err)
	require.NotEmpty(t, objs, "kustomize build %s", dir)
	return objs
}

func id(obj *unstructured.Unstructured) string {
	return obj.GetKind() + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// find returns the objects of a kind whose name has the prefix.
func find(objs []*unstructured.Unstructured, kind, prefix string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && strings.HasPrefix(o.GetName(), prefix) {
			out = append(out, o)
		}
	}
	return out
}

// TestKustomizationsApply builds every kustomization and sends its objects
// to the API server as a server-side apply dry run with strict field
// validation (an unknown or misplaced field is an error, not a silent
// drop). The namespaces are created for real first: a dry run cannot
// create the namespace of the objects that follow.
func TestKustomizationsApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := cluster.Config()
	dyn, err := dynamic.NewForConfig(cfg)
	require.NoError(t, err)
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	require.NoError(t, err)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	apply := func(obj *unstructured.Unstructured, dryRun bool) error {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
		if obj.GetNamespace() != "" {
			ri = dyn.Resource(m.Resource).Namespace(obj.GetNamespace())
		}
		body, err := obj.MarshalJSON()
		if err != nil {
			return err
		}
		force := true
		opts := metav1.PatchOptions{FieldManager: "deploy-test", Force: &force, FieldValidation: "Strict"}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		_, err = ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, opts)
		return err
	}
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			for _, obj := range objs {
				if obj.GetKind() == "Namespace" {
					require.NoError(t, apply(obj, false), "creating %s", id(obj))
				}
			}
			for _, obj := range objs {
				assert.NoError(t, apply(obj, true), "dry run of %s", id(obj))
			}
		})
	}
}

// TestKustomizationsContent checks what the API server cannot: the
// objects of each build fit together and fit the controller.
func TestKustomizationsContent(t *testing.T) {
	for _, dir := range kustomizations(t) {
		t.Run(dir, func(t *testing.T) {
			objs := build(t, dir)
			seen := map[string]bool{}
			for _, obj := range objs {
				assert.False(t, seen[id(obj)], "%s twice", id(obj))
				seen[id(obj)] = true
			}
			checkBindings(t, objs)
			for _, d := range find(objs, "Deployment", "nublado-controller") {
				checkDeployment(t, objs, d)
			}
			if strings.HasPrefix(dir, "overlays/site") {
				for _, obj := range objs {
					data, err := obj.MarshalJSON()
					require.NoError(t, err)
					assert.NotContains(t, string(data), "rsp.example.com", "%s keeps a placeholder host", id(obj))
				}
			}
		})
	}
}

// checkBindings: every binding names a role of the build (or of the base)
// and a ServiceAccount that the build creates, in the namespace it is
// created in (kustomize rewrites namespaces of bindings' subjects only in
// some cases).
func checkBindings(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	sas := find(objs, "ServiceAccount", "")
	for _, b := range append(find(objs, "RoleBinding", ""), find(objs, "ClusterRoleBinding", "")...) {
		kind, _, _ := unstructured.NestedString(b.Object, "roleRef", "kind")
		name, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		assert.NotEmpty(t, find(objs, kind, name), "%s refers to %s %s, not in the build", id(b), kind, name)
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		require.Len(t, subjects, 1, "%s: one subject", id(b))
		s := subjects[0].(map[string]any)
		assert.Equal(t, "ServiceAccount", s["kind"])
		if len(sas) == 0 {
			// base/fileservers alone: the base's ServiceAccount.
			assert.Equal(t, "nublado", s["namespace"], "%s", id(b))
			assert.Equal(t, "nublado-controller", s["name"], "%s", id(b))
			continue
		}
		var found bool
		for _, sa := range sas {
			found = found || (sa.GetName() == s["name"] && sa.GetNamespace() == s["namespace"])
		}
		assert.True(t, found, "%s: subject %s/%s is not a ServiceAccount of the build", id(b), s["namespace"], s["name"])
	}
}

// checkDeployment: the controller's Deployment matches what serve reads:
// the configuration at schema.DefaultPath from the build's ConfigMap, the
// pod metadata at metadataPath, the Docker credentials at
// images.dockerCredentialsPath, the image env equal to its own image.
func checkDeployment(t *testing.T, objs []*unstructured.Unstructured, d *unstructured.Unstructured) {
	t.Helper()
	strategy, _, _ := unstructured.NestedString(d.Object, "spec", "strategy", "type")
	assert.Equal(t, "Recreate", strategy)
	replicas, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
	assert.LessOrEqual(t, replicas, int64(1), "one controller at most")
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	assert.Equal(t, "nublado-controller", spec["serviceAccountName"])
	containers := spec["containers"].([]any)
	require.Len(t, containers, 1)
	c := containers[0].(map[string]any)
	assert.Equal(t, []any{"nublado", "serve"}, c["command"])

	env := map[string]string{}
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		env[e["name"].(string)], _ = e["value"].(string)
	}
	assert.Equal(t, c["image"], env["NUBLADO_CONTROLLER_REPOSITORY"]+":"+env["NUBLADO_CONTROLLER_TAG"],
		"the init containers, file servers and fsadmin run the controller's image")
	for _, k := range []string{"EXTERNAL_INSTANCE_URL", "REPERTOIRE_BASE_URL", "NUBLADO_CONTROLLER_PULL_POLICY"} {
		assert.NotEmpty(t, env[k], k)
	}

	for _, probe := range []string{"startupProbe", "readinessProbe"} {
		get, _, _ := unstructured.NestedMap(c, probe, "httpGet")
		assert.Equal(t, map[string]any{"path": "/", "port": "http"}, get, probe)
	}
	assert.Contains(t, c["ports"], map[string]any{"name": "http", "containerPort": int64(8080), "protocol": "TCP"})
	sc := c["securityContext"].(map[string]any)
	assert.Equal(t, true, sc["readOnlyRootFilesystem"])
	assert.Equal(t, false, sc["allowPrivilegeEscalation"])
	assert.Equal(t, true, spec["securityContext"].(map[string]any)["runAsNonRoot"])
	limits, _, _ := unstructured.NestedStringMap(c, "resources", "limits")
	assert.NotEmpty(t, limits["memory"], "a memory limit")

	mounts := map[string]string{} // volume name → mount path
	for _, m := range c["volumeMounts"].([]any) {
		m := m.(map[string]any)
		mounts[m["name"].(string)] = m["mountPath"].(string)
	}
	volumes := map[string]map[string]any{}
	for _, v := range spec["volumes"].([]any) {
		v := v.(map[string]any)
		volumes[v["name"].(string)] = v
	}
	// The configuration: the build's ConfigMap, loaded as serve loads it.
	var configVolume string
	for name, path := range mounts {
		if path == filepath.Dir(schema.DefaultPath) {
			configVolume = name
		}
	}
	require.NotEmpty(t, configVolume, "a volume at %s", filepath.Dir(schema.DefaultPath))
	cmName, _, _ := unstructured.NestedString(volumes[configVolume], "configMap", "name")
	cms := find(objs, "ConfigMap", cmName)
	require.Len(t, cms, 1, "the ConfigMap %s of the configuration", cmName)
	data, _, _ := unstructured.NestedStringMap(cms[0].Object, "data")
	cfgFile := filepath.Join(t.TempDir(), filepath.Base(schema.DefaultPath))
	require.NoError(t, os.WriteFile(cfgFile, []byte(data[filepath.Base(schema.DefaultPath)]), 0o600))
	cfg, err := schema.Load(cfgFile)
	require.NoError(t, err, "the configuration of %s", cmName)
	checkPatchesArg(t, c, data)

	// The pod metadata.
	assert.Equal(t, cfg.MetadataPath, mounts["podinfo"])
	items, _, _ := unstructured.NestedSlice(volumes["podinfo"], "downwardAPI", "items")
	got := map[string]string{}
	for _, it := range items {
		it := it.(map[string]any)
		got[it["path"].(string)] = it["fieldRef"].(map[string]any)["fieldPath"].(string)
	}
	assert.Equal(t, map[string]string{"name": "metadata.name", "namespace": "metadata.namespace", "uid": "metadata.uid"}, got)

	// The Docker credentials: the pull secret of the labs.
	assert.Equal(t, filepath.Dir(cfg.Images.DockerCredentialsPath), mounts["docker-credentials"])
	secret, _, _ := unstructured.NestedString(volumes["docker-credentials"], "secret", "secretName")
	assert.Equal(t, cfg.Lab.PullSecret, secret, "the credentials are the labs' pull secret")
}

// checkPatchesArg: a --patches argument names a file of the ConfigMap.
func checkPatchesArg(t *testing.T, c map[string]any, data map[string]string) {
	t.Helper()
	args, _ := c["args"].([]any)
	for i, a := range args {
		if a == "--patches" && i+1 < len(args) {
			path := args[i+1].(string)
			assert.Equal(t, filepath.Dir(schema.DefaultPath), filepath.Dir(path))
			assert.Contains(t, data, filepath.Base(path), "the patches file is in the configuration ConfigMap")
		}
	}
}

// route is the GafaelfawrIngress that serves a request path, as an
// ingress controller picks it: the longest matching path wins (Exact:
// equal; Prefix: whole path elements; ImplementationSpecific: a regular
// expression anchored at the start, nginx's use-regex).
func route(t *testing.T, ingresses []*unstructured.Unstructured, path string) *unstructured.Unstructured {
	t.Helper()
	var best *unstructured.Unstructured
	bestLen := -1
	for _, gi := range ingresses {
		rules, _, _ := unstructured.NestedSlice(gi.Object, "template", "spec", "rules")
		for _, r := range rules {
			paths, _, _ := unstructured.NestedSlice(r.(map[string]any), "http", "paths")
			for _, p := range paths {
				p := p.(map[string]any)
				pp, typ := p["path"].(string), p["pathType"].(string)
				var ok bool
				switch typ {
				case "Exact":
					ok = path == pp
				case "Prefix":
					ok = path == pp || strings.HasPrefix(path, strings.TrimSuffix(pp, "/")+"/")
				case "ImplementationSpecific":
					ok = regexp.MustCompile("^" + pp).MatchString(path)
				}
				if ok && len(pp) > bestLen {
					best, bestLen = gi, len(pp)
				}
			}
		}
	}
	return best
}

// TestIngressRoutes: the GafaelfawrIngresses of the base split the routes
// as spec §1.1 says: user routes with the user's delegated notebook token,
// JupyterHub's routes with admin:jupyterlab, administration with
// exec:admin, the API documentation anonymous.
func TestIngressRoutes(t *testing.T) {
	ingresses := find(build(t, "base"), "GafaelfawrIngress", "")
	user := map[string]any{"all": []any{"exec:notebook"}}
	hub := map[string]any{"all": []any{"admin:jupyterlab"}}
	admin := map[string]any{"all": []any{"exec:admin"}}
	anonymous := map[string]any{"anonymous": true}
	for path, want := range map[string]map[string]any{
		"/nublado/spawner/v1/labs/rachel/create": user,
		"/nublado/spawner/v1/labs/rachel/events": user,
		"/nublado/spawner/v1/lab-form/rachel":    user,
		"/nublado/spawner/v1/user-status":        user,
		"/files":                                 user,
		"/nublado/spawner/v1/labs":               hub,
		"/nublado/spawner/v1/labs/rachel":        hub,
		"/nublado/spawner/v1/images":             admin,
		"/nublado/spawner/v1/prepulls":           admin,
		"/nublado/fileserver/v1/users":           admin,
		"/nublado/fileserver/v1/users/rachel":    admin,
		"/nublado/fileserver/v1/user-status":     admin,
		"/nublado/fsadmin/v1/service":            admin,
		"/nublado":                               admin,
		"/nublado/openapi.json":                  anonymous,
		"/nublado/docs":                          anonymous,
		"/nublado/redoc":                         anonymous,
	} {
		gi := route(t, ingresses, path)
		require.NotNil(t, gi, "no ingress serves %s", path)
		scopes, _, _ := unstructured.NestedMap(gi.Object, "config", "scopes")
		assert.Equal(t, want, scopes, "%s is served by %s", path, gi.GetName())
		_, delegated, _ := unstructured.NestedMap(gi.Object, "config", "delegate", "notebook")
		assert.Equal(t, scopes["all"] != nil && scopes["all"].([]any)[0] == "exec:notebook", delegated,
			"%s: only user routes get a delegated notebook token", path)
	}
	for _, gi := range ingresses {
		rules, _, _ := unstructured.NestedSlice(gi.Object, "template", "spec", "rules")
		for _, r := range rules {
			paths, _, _ := unstructured.NestedSlice(r.(map[string]any), "http", "paths")
			for _, p := range paths {
				svc, _, _ := unstructured.NestedMap(p.(map[string]any), "backend", "service")
				assert.Equal(t, map[string]any{"name": "nublado-controller", "port": map[string]any{"number": int64(8080)}}, svc)
			}
		}
	}
}
