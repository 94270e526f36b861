package testcluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/nublado-go/nublado/internal/testcluster"
)

func TestKeepRunningJobPod(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	waitFor(t, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "server"},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{testcluster.KeepRunningAnnotation: "true"}},
			Spec: corev1.PodSpec{
				RestartPolicy: corev1.RestartPolicyNever,
				Containers:    []corev1.Container{{Name: "server", Image: "example.org/server:1"}},
			},
		}},
	}
	_, err := c.Client().BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	var pod corev1.Pod
	waitFor(t, time.Minute, "the Job's pod Running", func(ctx context.Context) (bool, error) {
		pods, err := c.Client().CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=server"})
		if err != nil || len(pods.Items) != 1 {
			return false, err
		}
		pod = pods.Items[0]
		return pod.Status.Phase == corev1.PodRunning, nil
	})
	// A Job's pod without the annotation is Succeeded within a fraction of
	// a second (TestJobPodSucceeds); this one keeps running.
	time.Sleep(time.Second)
	got, err := c.Client().CoreV1().Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodRunning, got.Status.Phase)

	require.NoError(t, c.SetPodPhase(ctx, ns, pod.Name, corev1.PodSucceeded))
	waitFor(t, time.Minute, "Job complete", func(ctx context.Context) (bool, error) {
		j, err := c.Client().BatchV1().Jobs(ns).Get(ctx, "server", metav1.GetOptions{})
		return err == nil && j.Status.Succeeded == 1, err
	})
}

// gafaelfawrIngress is a GafaelfawrIngress as nublado makes one for a file
// server.
func gafaelfawrIngress(ns, name string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gafaelfawr.lsst.io/v1alpha1", "kind": "GafaelfawrIngress",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"config": map[string]any{
			"baseUrl": "https://example.com", "scopes": map[string]any{"all": []any{"write:files"}},
		},
		"template": map[string]any{
			"metadata": map[string]any{"name": name, "labels": map[string]any{"app": name}},
			"spec": map[string]any{"rules": []any{map[string]any{
				"host": "example.com",
				"http": map[string]any{"paths": []any{map[string]any{
					"path": "/files/" + name, "pathType": "Prefix",
					"backend": map[string]any{"service": map[string]any{"name": name, "port": map[string]any{"number": int64(8000)}}},
				}}},
			}}},
		},
	}}
}

// ingressIP returns the load-balancer IP of an Ingress ("" without one)
// and whether it exists.
func ingressIP(ctx context.Context, dyn dynamic.Interface, ns, name string) (string, bool, error) {
	ing, err := dyn.Resource(testcluster.IngressResource).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	lb, _, _ := unstructured.NestedSlice(ing.Object, "status", "loadBalancer", "ingress")
	if len(lb) == 0 {
		return "", true, nil
	}
	ip, _ := lb[0].(map[string]any)["ip"].(string)
	return ip, true, nil
}

func TestGafaelfawrOperator(t *testing.T) {
	c := testcluster.Shared(t)
	ctx := context.Background()
	ns := c.Namespace(t)
	dyn, err := dynamic.NewForConfig(c.Config())
	require.NoError(t, err)
	gis := dyn.Resource(testcluster.GafaelfawrIngressResource).Namespace(ns)
	op := c.GafaelfawrOperator(t, ns, testcluster.IngressBehaviour{})

	t.Run("makes the Ingress with an IP", func(t *testing.T) {
		gi, err := gis.Create(ctx, gafaelfawrIngress(ns, "plain"), metav1.CreateOptions{})
		require.NoError(t, err)
		waitFor(t, 30*time.Second, "the Ingress's IP", func(ctx context.Context) (bool, error) {
			ip, _, err := ingressIP(ctx, dyn, ns, "plain")
			return ip == testcluster.DefaultIngressIP, err
		})
		ing, err := dyn.Resource(testcluster.IngressResource).Namespace(ns).Get(ctx, "plain", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"app": "plain"}, ing.GetLabels())
		wantSpec, _, _ := unstructured.NestedMap(gi.Object, "template", "spec")
		gotSpec, _, _ := unstructured.NestedMap(ing.Object, "spec")
		assert.Equal(t, wantSpec, gotSpec)
		refs := ing.GetOwnerReferences()
		require.Len(t, refs, 1)
		assert.Equal(t, gi.GetUID(), refs[0].UID)
		assert.True(t, *refs[0].BlockOwnerDeletion)

		// Deleting the owner in the foreground deletes the Ingress first.
		fg := metav1.DeletePropagationForeground
		require.NoError(t, gis.Delete(ctx, "plain", metav1.DeleteOptions{PropagationPolicy: &fg}))
		waitFor(t, time.Minute, "the Ingress and its owner gone", func(ctx context.Context) (bool, error) {
			_, exists, err := ingressIP(ctx, dyn, ns, "plain")
			if err != nil || exists {
				return false, err
			}
			_, err = gis.Get(ctx, "plain", metav1.GetOptions{})
			return apierrors.IsNotFound(err), nil
		})
	})

	t.Run("delays", func(t *testing.T) {
		op.SetBehaviour(testcluster.IngressBehaviour{IngressDelay: 500 * time.Millisecond, IPDelay: 500 * time.Millisecond, IP: "10.1.2.3"})
		start := time.Now()
		_, err := gis.Create(ctx, gafaelfawrIngress(ns, "slow"), metav1.CreateOptions{})
		require.NoError(t, err)
		var made time.Duration
		waitFor(t, 30*time.Second, "the Ingress's IP", func(ctx context.Context) (bool, error) {
			ip, exists, err := ingressIP(ctx, dyn, ns, "slow")
			if exists && made == 0 {
				made = time.Since(start)
			}
			return ip == "10.1.2.3", err
		})
		assert.GreaterOrEqual(t, made, 500*time.Millisecond, "Ingress made after IngressDelay")
		assert.GreaterOrEqual(t, time.Since(start), time.Second, "IP set after both delays")
	})

	t.Run("no IP, no Ingress", func(t *testing.T) {
		op.SetBehaviour(testcluster.IngressBehaviour{NoIP: true})
		_, err := gis.Create(ctx, gafaelfawrIngress(ns, "noip"), metav1.CreateOptions{})
		require.NoError(t, err)
		waitFor(t, 30*time.Second, "the Ingress", func(ctx context.Context) (bool, error) {
			_, exists, err := ingressIP(ctx, dyn, ns, "noip")
			return exists, err
		})
		op.SetBehaviour(testcluster.IngressBehaviour{NoIngress: true})
		_, err = gis.Create(ctx, gafaelfawrIngress(ns, "none"), metav1.CreateOptions{})
		require.NoError(t, err)
		time.Sleep(time.Second)
		ip, _, err := ingressIP(ctx, dyn, ns, "noip")
		require.NoError(t, err)
		assert.Empty(t, ip)
		_, exists, err := ingressIP(ctx, dyn, ns, "none")
		require.NoError(t, err)
		assert.False(t, exists)
	})
}
