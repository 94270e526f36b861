package deploy_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/internal/testcluster"
)

// racedGrants are the grants that only a race uses: the applier reads an
// object before applying it when the lab's namespace existed before the
// spawn (apply/apply.go applyOne) or after a field-manager conflict
// (apply/takeover.go). A spawn reaches an existing lab namespace only when
// the namespace informer has not yet seen it (server/labs/create.go
// leftover), which a test cannot arrange; without these reads such a
// spawn would fail. The file servers' and fsadmin's namespaces always
// exist, so their applies read their Services and PersistentVolumeClaims:
// those reads are proven by use. Every other grant must be used.
var racedGrants = map[string]bool{
	"get networkpolicies.networking.k8s.io": true,
}

// grant is one verb on one resource that a role grants, in a namespace
// ("" for a ClusterRole: every namespace and the cluster scope).
type grant struct {
	role      string // Kind namespace/name of the role
	namespace string
	group     string
	resource  string // resource or resource/subresource
	verb      string
}

func (g grant) String() string {
	ns := g.namespace
	if ns == "" {
		ns = "*"
	}
	return fmt.Sprintf("%s in %s: %s %s.%s", g.role, ns, g.verb, g.resource, g.group)
}

// allows reports whether the grant authorizes the request (RBAC's rule
// matching, without wildcards, which the roles do not use). A patch that
// creates its object (server-side apply, 201) needs create as well.
func (g grant) allows(e testcluster.AuditEvent, verb string) bool {
	res := e.Resource
	if e.Subresource != "" {
		res += "/" + e.Subresource
	}
	return g.group == e.Group && g.resource == res && g.verb == verb &&
		(g.namespace == "" || g.namespace == e.Namespace)
}

// verbs are the verbs a request needs. A patch that created its object
// (server-side apply, 201) is authorized as create too. A watch that
// streams the initial list (sendInitialEvents=true, client-go's watch-list
// informers) needs list as well: an informer falls back to list and watch
// when the API server does not stream, as older ones do not.
func verbs(e testcluster.AuditEvent) []string {
	switch {
	case e.Verb == "patch" && e.Code == http.StatusCreated:
		return []string{"patch", "create"}
	case e.Verb == "watch" && strings.Contains(e.URI, "sendInitialEvents=true"):
		return []string{"watch", "list"}
	}
	return []string{e.Verb}
}

// grants lists every verb on every resource that the roles bound to the
// controller's ServiceAccount grant. The roles use no wildcards and no
// resourceNames (checked here: they would make grants not comparable).
func grants(t *testing.T, objs []*unstructured.Unstructured) map[grant]bool {
	t.Helper()
	out := map[grant]bool{}
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, obj := range find(objs, kind, "") {
			var role rbacv1.Role
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &role))
			for _, r := range role.Rules {
				require.Empty(t, r.ResourceNames, "%s: no resourceNames", id(obj))
				require.Empty(t, r.NonResourceURLs, "%s: no nonResourceURLs", id(obj))
				for _, g := range r.APIGroups {
					for _, res := range r.Resources {
						for _, v := range r.Verbs {
							require.NotContains(t, []string{g, res, v}, "*", "%s: no wildcards", id(obj))
							out[grant{role: id(obj), namespace: obj.GetNamespace(), group: g, resource: res, verb: v}] = true
						}
					}
				}
			}
		}
	}
	return out
}

// applyOverlay applies a kustomization's objects to the control plane for
// real (server-side apply, as `kubectl apply --server-side -k` does).
func applyOverlay(t *testing.T, ctx context.Context, objs []*unstructured.Unstructured) {
	t.Helper()
	require.NoError(t, devstack.ApplyObjects(ctx, cluster.Config(), objs, "deploy-test"))
}

// localConfig writes deploy/examples/local.yaml, the configuration of
// make run, with the paths and registry of this test's development stack.
func localConfig(t *testing.T, stack *devstack.Stack, metadata string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("examples", "local.yaml"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	cfg["metadataPath"] = metadata
	imgs := cfg["images"].(map[string]any)
	imgs["dockerCredentialsPath"] = stack.CredentialsFile
	src := imgs["source"].(map[string]any)
	src["registry"] = stack.RegistryHost
	src["repository"] = stack.Repository
	// A volume of each kind that adds an object: a lab with a
	// PersistentVolumeClaim of its own.
	lab := cfg["lab"].(map[string]any)
	lab["volumes"] = append(lab["volumes"].([]any), map[string]any{
		"name": "scratch",
		"source": map[string]any{
			"type": "persistentVolumeClaim", "storageClassName": "standard",
			"accessModes": []any{"ReadWriteMany"},
			"resources":   map[string]any{"requests": map[string]any{"storage": "1Gi"}},
		},
	})
	lab["volumeMounts"] = append(lab["volumeMounts"].([]any), map[string]any{"containerPath": "/scratch", "volumeName": "scratch"})
	// File servers mount it too: a file server with a claim of its own.
	fs := cfg["fileserver"].(map[string]any)
	fs["volumeMounts"] = append(fs["volumeMounts"].([]any), map[string]any{"containerPath": "/scratch", "volumeName": "scratch"})
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "config.yaml")
	require.NoError(t, os.WriteFile(path, out, 0o600))
	return path
}

// TestControllerRBAC runs `nublado serve` as the local overlay deploys it:
// its ServiceAccount, roles and bindings applied to the control plane, the
// configuration of make run, and a token of that ServiceAccount (no admin
// rights). The controller starts (informers, image refresh, first
// prepuller round), spawns a lab and deletes it, creates a user's file
// server and deletes it, and starts, reads and stops fsadmin. The
// Gafaelfawr operator stand-in turns the file server's GafaelfawrIngress
// into its Ingress, as Gafaelfawr's operator does. The API server's audit
// log then shows the RBAC is least privilege, proven by use: no request
// of the controller was denied, and every verb on every resource that the
// roles grant was used by some request.
//
// wanda's lab is left over as a controller that stopped in the middle of a
// spawn leaves it: a lab namespace without its objects. At start the
// controller reads the lab's objects directly (the informers' caches lack
// them); wanda's spawn then deletes the namespace first.
func TestControllerRBAC(t *testing.T) {
	begin := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	objs := build(t, "overlays/local")
	applyOverlay(t, ctx, objs)

	stack, err := devstack.Start(devstack.Options{StateDir: devstackDir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = stack.Close(context.Background()) })
	meta := filepath.Join(t.TempDir(), "podinfo")
	require.NoError(t, stack.Seed(ctx, cluster.Client(), devstack.SeedOptions{
		Namespace: controllerNamespace, MetadataDir: meta, PullSecret: "pull-secret",
	}))
	t.Setenv("REPERTOIRE_BASE_URL", stack.RepertoireURL())
	t.Setenv("EXTERNAL_INSTANCE_URL", "http://127.0.0.1:8080")
	t.Setenv("NUBLADO_CONTROLLER_REPOSITORY", "ghcr.io/nublado-go/nublado")
	t.Setenv("NUBLADO_CONTROLLER_TAG", "local")

	leftover := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "userlabs-wanda", Labels: map[string]string{
		"nublado.lsst.io/category": "lab", "nublado.lsst.io/user": "wanda",
	}}}
	_, err = cluster.Client().CoreV1().Namespaces().Create(ctx, leftover, metav1.CreateOptions{})
	require.NoError(t, err)
	// The volumes that the claims bind to (no provisioner here), one for
	// each claim: the labs of rachel and wanda, rachel's file server and
	// fsadmin.
	for i := range 4 {
		name := fmt.Sprintf("scratch-%d", i)
		pv := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.PersistentVolumeSpec{
				StorageClassName: "standard",
				AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
				Capacity:         corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				PersistentVolumeSource: corev1.PersistentVolumeSource{
					NFS: &corev1.NFSVolumeSource{Server: "nfs.example.org", Path: "/export/scratch/" + name},
				},
			},
		}
		_, err = cluster.Client().CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
		require.NoError(t, err)
	}

	// Site patches, as the site-example overlay passes them.
	patches := filepath.Join(t.TempDir(), "patches.yaml")
	require.NoError(t, os.WriteFile(patches, []byte(`patches:
  - target: {kind: Pod, labelSelector: nublado.lsst.io/category=lab}
    patch: |-
      - op: add
        path: /metadata/annotations/example.org~1site-patched
        value: "true"
`), 0o600))
	c := startController(t, localConfig(t, stack, meta), accountKubeconfig(t, ctx), "--patches", patches)
	// After the controller's start, which points klog at its logger:
	// klog.SetLogger races with the operator's informers logging.
	cluster.GafaelfawrOperator(t, "fileservers", testcluster.IngressBehaviour{})
	c.expect(http.MethodGet, "/", "", "", http.StatusOK)
	c.spawn("wanda")
	c.spawn("rachel")
	state := c.expect(http.MethodGet, spawner+"/labs/rachel", "", "", http.StatusOK)
	assert.Contains(t, state, `"status":"running"`)
	pod, err := cluster.Client().CoreV1().Pods("userlabs-rachel").Get(ctx, "rachel-nb", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "true", pod.Annotations["example.org/site-patched"], "serve --patches patches the lab pod")
	// The first prepuller round prepulls the weekly that half of the
	// nodes lack: its pods are created, watched and deleted.
	require.Eventually(t, func() bool {
		return strings.Contains(c.expect(http.MethodGet, spawner+"/prepulls", "", "", http.StatusOK), `"pending":[]`)
	}, 2*time.Minute, 200*time.Millisecond, "every image of the prepull set prepulled")
	for _, user := range []string{"rachel", "wanda"} {
		c.expect(http.MethodDelete, spawner+"/labs/"+user, "", "", http.StatusNoContent)
		c.expect(http.MethodGet, spawner+"/labs/"+user, "", "", http.StatusNotFound)
	}

	// rachel's file server: created by her visit to {fp} (§1.3 #19),
	// deleted by an administrator (#14).
	page := c.expect(http.MethodGet, "/files", "rachel", "", http.StatusOK)
	assert.Contains(t, page, "http://localhost:8080/files/rachel", "the file server's address")
	assert.JSONEq(t, `["rachel"]`, c.expect(http.MethodGet, fileservers+"/users", "", "", http.StatusOK))
	assert.JSONEq(t, `{"running": true}`, c.expect(http.MethodGet, fileservers+"/users/rachel", "", "", http.StatusOK))
	_, err = cluster.Client().BatchV1().Jobs("fileservers").Get(ctx, "rachel-fs", metav1.GetOptions{})
	require.NoError(t, err, "rachel's file server has its Job")
	c.expect(http.MethodDelete, fileservers+"/users/rachel", "", "", http.StatusNoContent)
	assert.JSONEq(t, `[]`, c.expect(http.MethodGet, fileservers+"/users", "", "", http.StatusOK))
	for _, list := range []func() (int, error){
		func() (int, error) {
			l, err := cluster.Client().BatchV1().Jobs("fileservers").List(ctx, metav1.ListOptions{})
			return len(l.Items), err
		},
		func() (int, error) {
			l, err := cluster.Client().CoreV1().PersistentVolumeClaims("fileservers").List(ctx, metav1.ListOptions{})
			return len(l.Items), err
		},
	} {
		n, err := list()
		require.NoError(t, err)
		assert.Zero(t, n, "the file server's objects are gone")
	}

	// fsadmin (§1.3 #16–18): started, read, stopped.
	started := c.expect(http.MethodPost, fsadmin, "", `{"start": true}`, http.StatusOK)
	assert.Contains(t, started, `"start_time"`)
	assert.JSONEq(t, started, c.expect(http.MethodGet, fsadmin, "", "", http.StatusOK))
	c.expect(http.MethodDelete, fsadmin, "", "", http.StatusNoContent)
	c.expect(http.MethodGet, fsadmin, "", "", http.StatusNotFound)

	c.shutdown()
	t.Logf("controller run (start, spawn, prepull, delete, file server, fsadmin, stop): %s",
		time.Since(begin).Round(time.Millisecond))

	events, err := cluster.AuditEvents(controllerUser)
	require.NoError(t, err)
	checkLeastPrivilege(t, grants(t, objs), events)
}

// checkLeastPrivilege: no request was denied, every request is allowed by
// a grant, every grant (except racedGrants) allowed some request, and no
// Role grant repeats a ClusterRole grant.
func checkLeastPrivilege(t *testing.T, granted map[grant]bool, events []testcluster.AuditEvent) {
	t.Helper()
	used := map[grant]int{}
	summary := map[string]int{}
	requests := 0
	for _, e := range events {
		if e.Stage != "ResponseComplete" && !(e.Verb == "watch" && e.Stage == "ResponseStarted") {
			continue
		}
		if e.Verb == "watch" && e.Stage == "ResponseComplete" {
			continue // counted when it started
		}
		requests++
		assert.NotEqual(t, http.StatusForbidden, e.Code, "denied: %s %s", e.Verb, e.URI)
		res := e.Resource
		if e.Subresource != "" {
			res += "/" + e.Subresource
		}
		summary[fmt.Sprintf("%s %s.%s %d", e.Verb, res, e.Group, e.Code)]++
		if e.Resource == "" {
			continue // discovery (/api, /apis): every authenticated user may
		}
		for _, v := range verbs(e) {
			var ok bool
			for g := range granted {
				if g.allows(e, v) {
					used[g]++
					ok = true
				}
			}
			assert.True(t, ok, "no grant allows %s %s", v, e.URI)
		}
	}
	require.NotZero(t, requests, "the audit log has the controller's requests")
	var lines []string
	for k, n := range summary {
		lines = append(lines, fmt.Sprintf("%s ×%d", k, n))
	}
	sort.Strings(lines)
	t.Logf("requests (verb resource.group status ×count):\n%s", strings.Join(lines, "\n"))
	roles := map[string]int{}
	for g := range granted {
		roles[g.role]++
	}
	for g := range granted {
		if !racedGrants[g.verb+" "+g.resource+"."+g.group] {
			assert.NotZero(t, used[g], "%s is granted but never used", g)
		}
		if g.namespace != "" {
			cluster := g
			cluster.namespace, cluster.role = "", "ClusterRole /nublado-controller"
			assert.False(t, granted[cluster], "%s repeats a ClusterRole grant", g)
		}
	}
	t.Logf("%d requests of %s; %d grants (verb × resource) by role: %v", requests, controllerUser, len(granted), roles)
}
