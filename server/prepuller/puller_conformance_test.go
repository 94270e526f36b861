//go:build conformance

package prepuller_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/prepuller"
)

// conformanceConfig loads a conformance controller configuration.
func conformanceConfig(t *testing.T, name string) *schema.Config {
	t.Helper()
	cfg, err := schema.Load(filepath.Join(conformance, "controller", "config", name),
		schema.WithoutEnv())
	require.NoError(t, err)
	return cfg
}

// controllerNamespace is the namespace of the conformance pod metadata.
func controllerNamespace(t *testing.T) string {
	t.Helper()
	md, err := schema.ReadPodMetadata(filepath.Join(conformance, "controller", "metadata"))
	require.NoError(t, err)
	return md.Namespace
}

// TestConformancePrepullerDocker: standard.yaml, the registry of
// registry/docker.json and the nodes of nodes/standard.json (node2 lacks
// the daily). Nublado's objects/prepull.json is not in our copy of the
// conformance data, so the pod is checked against spec §3.8, with the
// stand-in controller pod's real uid (a real garbage collector deletes
// pods whose owner does not exist) and without the tolerationSeconds of
// the NoSchedule toleration, which a real API server refuses (D19).
func TestConformancePrepullerDocker(t *testing.T) {
	cfg := conformanceConfig(t, "standard.yaml")
	cfg.Images.DockerCredentialsPath = ""
	for i := range cfg.Lab.Tolerations {
		cfg.Lab.Tolerations[i].TolerationSeconds = nil
	}
	var fixture map[string]string
	require.NoError(t, json.Unmarshal(readConformance(t, "registry/docker.json"), &fixture))
	reg := imagestest.NewRegistry(t)
	r := &registry{server: reg.Server, transport: reg.Transport(),
		real: reg.Push(t, cfg.Images.Source.Registry+"/"+cfg.Images.Source.Repository, fixture)}
	src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(r.transport)},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = closer.Close() })
	e := newPullerEnv(t, cfg, src, controllerNamespace(t))
	addConformanceNodes(t, r, "controller/nodes/standard.json")
	e.refresh(nil)
	name := "prepull-d-2077-10-23-node2"

	t.Run("Pods", func(t *testing.T) {
		res := e.round()
		assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Succeeded: 1, Duration: res.Duration}, res)
		created := e.pods.created()
		require.Len(t, created, 1, "only the daily on node2")
		pod := created[0]
		pod.Spec.Containers[0].Image = r.fake(pod.Spec.Containers[0].Image)
		tolerations := []corev1.Toleration{
			{Key: "some-toleration", Operator: corev1.TolerationOpEqual, Value: "some-value", Effect: corev1.TaintEffectNoSchedule},
			{Key: "other-toleration", Operator: corev1.TolerationOpExists},
		}
		assert.Equal(t, e.wantPod(name, "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234", "node2", tolerations),
			asSent(t, pod), "the prepull pod: -want +got")
		e.requireNoPods()
		status := e.prepulls()
		assert.Empty(t, status.Images.Pending)
		for _, img := range status.Images.Prepulled {
			assert.Equal(t, []string{"node1", "node2"}, img.Nodes, "%s is on both nodes", img.Tag)
		}
	})

	t.Run("CreateError", func(t *testing.T) {
		e.refresh(nil) // node2 has not reported the daily: it is missing again
		e.proxy.rule(name, &podRule{fail: 1})
		res := e.round()
		assert.Equal(t, prepuller.RoundResult{Nodes: 1, Failed: 1, Duration: res.Duration}, res)
		failed := e.entries("Failed to prepull image")
		require.Len(t, failed, 1)
		err, _ := failed[0].Data[logrus.ErrorKey].(error)
		require.Error(t, err)
		assert.Equal(t, "Error creating object (Pod nublado/"+name+", status 400): Something bad happened", err.Error())
		_, hasUser := failed[0].Data["user"]
		assert.False(t, hasUser, "no user field")
	})

	t.Run("Replace", func(t *testing.T) {
		e.refresh(nil)
		old, err := e.c.Client().CoreV1().Pods(e.ns).Create(context.Background(), &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Labels: map[string]string{prepuller.LabelCategory: prepuller.CategoryPrepuller},
				Annotations: map[string]string{testcluster.HoldAnnotation: "true"},
			},
			Spec: corev1.PodSpec{NodeName: "node2", Containers: []corev1.Container{{Name: "prepull", Image: "example.com/old"}}},
		}, metav1.CreateOptions{})
		require.NoError(t, err)
		res := e.round()
		assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Replaced: 1, Succeeded: 1, Duration: res.Duration}, res)
		last := e.pods.created()[len(e.pods.created())-1]
		assert.Equal(t, name, last.Name)
		assert.NotEqual(t, old.UID, last.UID)
		e.requireNoPods()
	})

	t.Run("NodeRemoved", func(t *testing.T) {
		e.refresh(nil)
		before := len(e.log.AllEntries())
		e.proxy.rule(name, &podRule{hold: true})
		e.pods.whenAdded(name, func(*corev1.Pod) {
			assert.NoError(t, e.c.RemoveNode(context.Background(), "node2"))
		})
		res := e.round()
		assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Abandoned: 1, Duration: res.Duration}, res)
		for _, entry := range e.log.AllEntries()[before:] {
			assert.Greater(t, entry.Level, logrus.WarnLevel, "no errors: %s %v", entry.Message, entry.Data)
		}
		e.requireNoPods()
	})
}

// TestConformancePrepullerGAR: gar.yaml, the images of registry/gar.json
// and the two empty nodes of nodes/empty.json: pods for w_2077_43 on node1
// and node2 first, then w_2077_42, then (once the kubelets report them)
// none.
func TestConformancePrepullerGAR(t *testing.T) {
	cfg := conformanceConfig(t, "gar.yaml")
	imgs, err := imagestest.GARImages(readConformance(t, "registry/gar.json"))
	require.NoError(t, err)
	e := garPuller(t, cfg, imgs, controllerNamespace(t))
	addConformanceNodes(t, &registry{}, "controller/nodes/empty.json")
	e.refresh(func(s *prepuller.Service) bool { return len(s.Catalog().Nodes()) == 2 })
	e.holdUntilAll("prepull-w-2077-43-node1", "prepull-w-2077-43-node2")

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 2, Pods: 4, Succeeded: 4, Duration: res.Duration}, res)
	names := e.pods.names()
	require.Len(t, names, 4)
	assert.ElementsMatch(t, []string{"prepull-w-2077-43-node1", "prepull-w-2077-43-node2"}, names[:2])
	assert.ElementsMatch(t, []string{"prepull-w-2077-42-node1", "prepull-w-2077-42-node2"}, names[2:])
	e.requireNoPods()

	e.reportPulled("node1")
	e.reportPulled("node2")
	e.refresh(func(s *prepuller.Service) bool {
		return len(s.Catalog().Missing("node1")) == 0 && len(s.Catalog().Missing("node2")) == 0
	})
	res = e.round()
	assert.Equal(t, prepuller.RoundResult{Duration: res.Duration}, res, "then none")
	assert.Len(t, e.pods.names(), 4)
}
