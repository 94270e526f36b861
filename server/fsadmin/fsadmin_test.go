package fsadmin_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/internal/testcluster"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/fsadmin"
)

const start = `{"start": true}`

// TestLifecycle is the original's fsadmin test through the HTTP API.
func TestLifecycle(t *testing.T) {
	h := newHarness(t, nil)
	notFound := `{"detail":[{"msg":"` + h.ns + `/fsadmin","type":"not_found"}]}`
	r := h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, notFound, r.body)
	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)

	r = h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	started := startTime(t, r.body)
	assert.WithinDuration(t, time.Now(), started, 30*time.Second)
	h.checkObjects()

	r = h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, started, startTime(t, r.body), "a second POST keeps the pod")
	r = h.do(http.MethodGet, "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, started, startTime(t, r.body))

	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, h.names(pods), "pods after DELETE")
	r = h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, notFound, r.body)
}

// TestBodies: POST needs {"start": true}.
func TestBodies(t *testing.T) {
	h := newHarness(t, nil)
	for _, body := range []string{"", `{}`, `{"start": false}`, `{"stop": true}`} {
		r := h.do(http.MethodPost, body)
		assert.Equal(t, http.StatusUnprocessableEntity, r.status, "body %q: %s", body, r.body)
	}
	assert.Empty(t, h.names(pods))
}

// TestInvalidPhase: a pod that ended is reported with its phase, and a
// POST replaces it.
func TestInvalidPhase(t *testing.T) {
	h := newHarness(t, nil)
	r := h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	uid := h.get(pods, "fsadmin").GetUID()
	require.NoError(t, h.c.SetPodPhase(context.Background(), h.ns, "fsadmin", corev1.PodFailed))
	r = h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.JSONEq(t, `{"detail":[{"msg":"Failed","type":"invalid_phase"}]}`, r.body)

	r = h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotEqual(t, uid, h.get(pods, "fsadmin").GetUID(), "the pod was replaced")
	r = h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusOK, r.status, r.body)
}

// TestDeleteWaitsForPost: a DELETE waits for the POST in progress, then
// removes its pod.
func TestDeleteWaitsForPost(t *testing.T) {
	h := newHarness(t, func(c *nschema.Config) { c.FSAdmin.ExtraAnnotations[testcluster.HoldAnnotation] = "true" })
	order := make(chan string, 2)
	posted := make(chan response, 1)
	go func() {
		r := h.do(http.MethodPost, start)
		order <- "POST"
		posted <- r
	}()
	waitFor(t, "the pending pod", func() bool { return h.get(pods, "fsadmin") != nil })
	deleted := make(chan response, 1)
	go func() {
		r := h.do(http.MethodDelete, "")
		order <- "DELETE"
		deleted <- r
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case r := <-deleted:
		t.Fatalf("DELETE returned while the POST waits: %d %s", r.status, r.body)
	default:
	}
	require.NotNil(t, h.get(pods, "fsadmin"), "the pod during the POST")
	require.NoError(t, h.c.ReleasePod(context.Background(), h.ns, "fsadmin"))
	r := <-posted
	assert.Equal(t, http.StatusOK, r.status, r.body)
	r = <-deleted
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Equal(t, "POST", <-order)
	assert.Equal(t, "DELETE", <-order)
	assert.Empty(t, h.names(pods))
	r = h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusNotFound, r.status)
}

// TestStartTimeout: a pod that stays Pending fails the start after
// fsadmin.timeout with a 500.
func TestStartTimeout(t *testing.T) {
	h := newHarness(t, func(c *nschema.Config) {
		c.FSAdmin.ExtraAnnotations[testcluster.HoldAnnotation] = "true"
		c.FSAdmin.Timeout = 2 * time.Second
	})
	r := h.do(http.MethodPost, start)
	assert.Equal(t, http.StatusInternalServerError, r.status)
	assert.Equal(t, "Internal Server Error", r.body)
	assert.Contains(t, h.log.String(), "fsadmin start timed out after 2.0")

	_, err := h.m.Start(context.Background())
	var terr *fsadmin.TimeoutError
	require.ErrorAs(t, err, &terr)
	assert.Equal(t, "fsadmin start timed out after 2.0", terr.Error())
}

// TestWithPVC: the PVCs of the mounted PVC volumes are made and deleted
// with the pod. A statically provisioned volume serves the claim.
func TestWithPVC(t *testing.T) {
	h := newHarness(t, func(c *nschema.Config) {
		c.Lab.Volumes = append(c.Lab.Volumes, nschema.Volume{Name: "scratch", Source: nschema.VolumeSource{
			Type: nschema.VolumePVC, StorageClassName: "sdf-home", AccessModes: []string{"ReadWriteMany"},
			Resources: &nschema.PVCResources{Requests: map[string]string{"storage": "1Gi"}},
		}})
		c.Lab.VolumeMounts = append(c.Lab.VolumeMounts, nschema.VolumeMount{ContainerPath: "/random", VolumeName: "scratch"})
	})
	ctx := context.Background()
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "fsadmin-scratch-" + h.ns},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			AccessModes:                   []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			StorageClassName:              "sdf-home",
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource:        corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/scratch"}},
			ClaimRef:                      &corev1.ObjectReference{Namespace: h.ns, Name: "fsadmin-pvc-scratch"},
		},
	}
	_, err := h.c.Client().CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = h.c.Client().CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}) })

	r := h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []string{"fsadmin-pvc-scratch"}, h.names(pvcs))
	h.checkObjects()
	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, h.names(pods))
	assert.Empty(t, h.names(pvcs))
}

// TestReadWriteCopies (decision D7): the fsadmin pod mounts everything
// read-write, and neither the configuration nor the labs rendered after a
// start and a stop lose their read-only mounts.
func TestReadWriteCopies(t *testing.T) {
	h := newHarness(t, nil)
	before := deepCopy(t, h.cfg)
	r := h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)
	for _, m := range podMounts(t, h.get(pods, "fsadmin"), "fsadmin") {
		if strings.HasPrefix(m["name"].(string), "kube-api-access-") {
			continue // the service-account token, added by admission
		}
		assert.NotEqual(t, true, m["readOnly"], "fsadmin mount %v", m)
		assert.True(t, strings.HasPrefix(m["mountPath"].(string), "/user-filesystems/"), "fsadmin mount %v", m)
	}
	r = h.do(http.MethodDelete, "")
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.True(t, reflect.DeepEqual(before, h.cfg), "the configuration changed")

	user := nublado.User{Username: "rachel", UID: ptr(int64(1101)), GID: ptr(int64(1101))}
	in, err := h.cfg.LabInput(defaultEnv(), nschema.LabRequest{
		User: user, Size: "small", Namespace: h.ns,
		Env:   map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/"},
		Image: nschema.LabImage{Reference: "lighthouse.ceres/library/sketchbook:w_2077_43", Digest: "sha256:" + strings.Repeat("4", 64)},
	})
	require.NoError(t, err)
	objs, err := h.renderer.Render("lab", in)
	require.NoError(t, err)
	var project map[string]any
	for _, obj := range objs {
		if obj.GetKind() == "Pod" {
			for _, m := range podMounts(t, obj, "notebook") {
				if m["mountPath"] == "/project" {
					project = m
				}
			}
		}
	}
	require.NotNil(t, project, "the lab's /project mount")
	assert.Equal(t, true, project["readOnly"], "the lab's /project mount stays read-only")
}

// podMounts returns the volume mounts of a pod's container.
func podMounts(t *testing.T, pod *unstructured.Unstructured, container string) []map[string]any {
	t.Helper()
	containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
	for _, c := range containers {
		cm := c.(map[string]any)
		if cm["name"] != container {
			continue
		}
		var out []map[string]any
		mounts, _ := cm["volumeMounts"].([]any)
		for _, m := range mounts {
			out = append(out, m.(map[string]any))
		}
		require.NotEmpty(t, out, "mounts of %s", container)
		return out
	}
	t.Fatalf("no container %s", container)
	return nil
}

func deepCopy(t *testing.T, cfg *nschema.Config) *nschema.Config {
	t.Helper()
	c := *cfg
	c.Lab.Volumes = append([]nschema.Volume(nil), cfg.Lab.Volumes...)
	c.Lab.VolumeMounts = append([]nschema.VolumeMount(nil), cfg.Lab.VolumeMounts...)
	c.FSAdmin.ExtraVolumeMounts = append([]nschema.VolumeMount(nil), cfg.FSAdmin.ExtraVolumeMounts...)
	return &c
}

func ptr[T any](v T) *T { return &v }

// TestStatusErrors: the manager's errors are the API's.
func TestStatusErrors(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.m.Status(context.Background())
	var nerr *nublado.Error
	require.True(t, errors.As(err, &nerr), "%v", err)
	assert.Equal(t, nublado.CodeNotFound, nerr.Code)
	assert.Equal(t, h.ns+"/fsadmin", nerr.Message)
	require.NoError(t, h.m.Stop(context.Background()), "Stop with nothing to stop")
}

// TestKubernetesErrors: a failing Kubernetes call answers 500 on every
// route, and the next call after the failure works.
func TestKubernetesErrors(t *testing.T) {
	h := newHarness(t, nil)
	h.faults.Fail(http.MethodGet, "/pods/fsadmin", http.StatusInternalServerError)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		body := ""
		if method == http.MethodPost {
			body = start
		}
		r := h.do(method, body)
		assert.Equal(t, http.StatusInternalServerError, r.status, "%s while reading the pod fails: %s", method, r.body)
	}
	h.faults.Clear()

	h.faults.Fail(http.MethodPatch, "/pods/fsadmin", http.StatusBadRequest)
	r := h.do(http.MethodPost, start)
	assert.Equal(t, http.StatusInternalServerError, r.status, "POST while applying the pod fails: %s", r.body)
	assert.Contains(t, h.log.String(), "Starting fsadmin failed")
	assert.Contains(t, h.log.String(), "Something bad happened")
	h.faults.Clear()
	r = h.do(http.MethodPost, start)
	require.Equal(t, http.StatusOK, r.status, r.body)

	h.faults.Fail(http.MethodDelete, "/pods/fsadmin", http.StatusForbidden)
	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusInternalServerError, r.status, "DELETE while deleting the pod fails: %s", r.body)
	assert.Contains(t, h.log.String(), "Stopping fsadmin failed")
	r = h.do(http.MethodGet, "")
	assert.Equal(t, http.StatusOK, r.status, "the pod still runs: %s", r.body)
	h.faults.Clear()
	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, h.names(pods))
}

// TestPodEndsDuringStart: a POST whose new pod ends instead of running
// answers the 404 of GET, with the phase.
func TestPodEndsDuringStart(t *testing.T) {
	h := newHarness(t, func(c *nschema.Config) { c.FSAdmin.ExtraAnnotations[testcluster.HoldAnnotation] = "true" })
	posted := make(chan response, 1)
	go func() { posted <- h.do(http.MethodPost, start) }()
	waitFor(t, "the pending pod", func() bool { return h.get(pods, "fsadmin") != nil })
	require.NoError(t, h.c.SetPodPhase(context.Background(), h.ns, "fsadmin", corev1.PodFailed))
	r := <-posted
	assert.Equal(t, http.StatusNotFound, r.status, r.body)
	assert.JSONEq(t, `{"detail":[{"msg":"Failed","type":"invalid_phase"}]}`, r.body)
	r = h.do(http.MethodDelete, "")
	assert.Equal(t, http.StatusNoContent, r.status, r.body)
	assert.Empty(t, h.names(pods))
}
