package apply_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}) }

// newApplier returns an Applier on the shared control plane whose requests
// are recorded.
func newApplier(t testing.TB, opts ...apply.Option) (*apply.Applier, *recorder) {
	t.Helper()
	cfg := testcluster.Shared(t).Config()
	rec := &recorder{}
	cfg.Wrap(rec.wrap)
	a, err := apply.NewForConfig(cfg, opts...)
	require.NoError(t, err, "NewForConfig")
	return a, rec
}

// recorder records the API requests made through a rest.Config.
type recorder struct {
	mu       sync.Mutex
	requests []string // "METHOD path?query"
}

func (r *recorder) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		r.mu.Lock()
		r.requests = append(r.requests, req.Method+" "+req.URL.RequestURI())
		r.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// reset forgets the requests recorded so far (discovery, for example).
func (r *recorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = nil
}

// list returns the requests recorded so far.
func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.requests...)
}

// count returns how many recorded requests start with prefix.
func (r *recorder) count(prefix string) int {
	n := 0
	for _, req := range r.list() {
		if strings.HasPrefix(req, prefix) {
			n++
		}
	}
	return n
}

// uniqueName returns prefix-<random>.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// lab returns the objects of testdata/lab.yaml for user in namespace.
func lab(t testing.TB, namespace, user string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile("testdata/lab.yaml")
	require.NoError(t, err)
	text := strings.NewReplacer("NAMESPACE", namespace, "USER", user).Replace(string(data))
	objs, err := apply.Decode(strings.NewReader(text))
	require.NoError(t, err, "Decode(lab.yaml)")
	return objs
}

// decode parses YAML objects.
func decode(t testing.TB, text string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := apply.Decode(strings.NewReader(text))
	require.NoError(t, err, "Decode")
	return objs
}

// find returns the object of kind and name among objs.
func find(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return nil
}

// actions maps "Kind namespace/name" to the action of each change.
func actions(cs apply.ChangeSet) map[string]apply.Action {
	m := map[string]apply.Action{}
	for _, c := range cs.Changes {
		m[c.Object.String()] = c.Action
	}
	return m
}

// cleanupNamespace deletes a namespace (without waiting) when the test ends.
func cleanupNamespace(t testing.TB, name string) {
	t.Cleanup(func() {
		err := testcluster.Shared(t).Client().CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
}

// timeout returns a context that ends after d or with the test.
func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// resources maps the kinds the tests create directly to their resources.
var resources = map[string]schema.GroupVersionResource{
	"ConfigMap": {Version: "v1", Resource: "configmaps"},
	"Service":   {Version: "v1", Resource: "services"},
	"Pod":       {Version: "v1", Resource: "pods"},
	"Secret":    {Version: "v1", Resource: "secrets"},
}

// createAs creates obj with a plain create as field manager manager.
func createAs(t testing.TB, ctx context.Context, obj *unstructured.Unstructured, manager string) *unstructured.Unstructured {
	t.Helper()
	dyn, err := dynamic.NewForConfig(testcluster.Shared(t).Config())
	require.NoError(t, err)
	gvr, ok := resources[obj.GetKind()]
	require.True(t, ok, "no resource for %s", obj.GetKind())
	res, err := dyn.Resource(gvr).Namespace(obj.GetNamespace()).Create(ctx, obj, metav1.CreateOptions{FieldManager: manager})
	require.NoError(t, err, "creating %s %s", obj.GetKind(), obj.GetName())
	return res
}

// managers lists "manager/Operation" of the main resource's managedFields
// entries, sorted.
func managers(entries []metav1.ManagedFieldsEntry) []string {
	var out []string
	for _, e := range entries {
		if e.Subresource == "" {
			out = append(out, e.Manager+"/"+string(e.Operation))
		}
	}
	slices.Sort(out)
	return out
}

func newServiceAccount(name string) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
}
