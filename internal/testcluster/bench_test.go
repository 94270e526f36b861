package testcluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// BenchmarkStart measures a full start (three nodes) and stop of a second
// control plane next to the shared one.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		c, err := testcluster.Start(context.Background(), testcluster.Options{Nodes: testcluster.DefaultNodes(3)})
		require.NoError(b, err)
		b.StopTimer()
		require.NoError(b, c.Stop())
		b.StartTimer()
	}
}

// BenchmarkDefaultServiceAccount measures namespace create → its default
// ServiceAccount exists.
func BenchmarkDefaultServiceAccount(b *testing.B) {
	c := testcluster.Shared(b)
	for b.Loop() {
		ns := c.Namespace(b)
		waitFor(b, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	}
}

// BenchmarkPodRunning measures pod create → phase Running on a kwok node.
func BenchmarkPodRunning(b *testing.B) {
	c := testcluster.Shared(b)
	ns := c.Namespace(b)
	waitFor(b, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns))
	pods := c.Client().CoreV1().Pods(ns)
	for b.Loop() {
		pod, err := pods.Create(context.Background(), newPodGenerated(), metav1.CreateOptions{})
		require.NoError(b, err)
		waitFor(b, 30*time.Second, "pod Running", podPhase(c.Client(), ns, pod.Name, corev1.PodRunning))
	}
}

// BenchmarkNamespaceDeletion measures delete → gone for a namespace holding
// a running pod.
func BenchmarkNamespaceDeletion(b *testing.B) {
	c := testcluster.Shared(b)
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		ns, err := c.Client().CoreV1().Namespaces().Create(ctx,
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "bench-"}}, metav1.CreateOptions{})
		require.NoError(b, err)
		waitFor(b, 30*time.Second, "default ServiceAccount", serviceAccountExists(c.Client(), ns.Name))
		pod, err := c.Client().CoreV1().Pods(ns.Name).Create(ctx, newPodGenerated(), metav1.CreateOptions{})
		require.NoError(b, err)
		waitFor(b, 30*time.Second, "pod Running", podPhase(c.Client(), ns.Name, pod.Name, corev1.PodRunning))
		b.StartTimer()
		require.NoError(b, c.Client().CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{}))
		waitFor(b, 2*time.Minute, "namespace gone", func(ctx context.Context) (bool, error) {
			_, err := c.Client().CoreV1().Namespaces().Get(ctx, ns.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			return false, err
		})
	}
}

func newPodGenerated() *corev1.Pod {
	pod := newPod("", nil)
	pod.GenerateName = "bench-"
	return pod
}
