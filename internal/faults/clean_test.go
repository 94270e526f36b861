package faults_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// cleanupLabs deletes the namespaces a test left behind, without waiting.
func cleanupLabs(c *testcluster.Cluster, prefix string) {
	list, err := c.Client().CoreV1().Namespaces().List(background, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, prefix+"-") && ns.DeletionTimestamp == nil {
			_ = c.Client().CoreV1().Namespaces().Delete(background, ns.Name, metav1.DeleteOptions{})
		}
	}
}

// labNamespaces returns the lab namespaces of the env's prefix.
func (e *env) labNamespaces(t *testing.T) []corev1.Namespace {
	t.Helper()
	list, err := e.c.Client().CoreV1().Namespaces().List(background, metav1.ListOptions{})
	require.NoError(t, err)
	var out []corev1.Namespace
	for _, ns := range list.Items {
		if strings.HasPrefix(ns.Name, e.prefix+"-") {
			out = append(out, ns)
		}
	}
	return out
}

// requireClean waits (up to a minute) until the cluster and the
// controller agree on exactly the running labs of users: each has its
// namespace holding one lab pod that runs, and status running; every
// other user of users has neither a namespace nor a lab (no orphan, no
// pending or terminating state). Prepull pods must be gone from the
// controller's namespace. It returns how long that took.
func (e *env) requireClean(t *testing.T, c *controller, running []string, others ...string) time.Duration {
	t.Helper()
	begin := time.Now()
	deadline := begin.Add(time.Minute)
	for {
		problems := e.problems(t, c, running, others)
		if len(problems) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not clean after a minute: %s\n%s", strings.Join(problems, "; "), c.tail(30))
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Duplicates: exactly one pod, and one object of each kind and name,
	// in every running lab.
	for _, user := range running {
		pods, err := e.c.Client().CoreV1().Pods(e.labNamespace(user)).List(background, metav1.ListOptions{})
		require.NoError(t, err)
		assert.Len(t, pods.Items, 1, "pods of %s's lab", user)
	}
	return time.Since(begin)
}

// problems lists what keeps the state from being clean.
func (e *env) problems(t *testing.T, c *controller, running, others []string) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, ns := range e.labNamespaces(t) {
		user := strings.TrimPrefix(ns.Name, e.prefix+"-")
		seen[user] = true
		switch {
		case ns.DeletionTimestamp != nil:
			out = append(out, "namespace "+ns.Name+" terminating")
		case !slices.Contains(running, user):
			out = append(out, "orphan namespace "+ns.Name)
		}
	}
	for _, user := range running {
		if !seen[user] {
			out = append(out, "no namespace for "+user)
			continue
		}
		pod, err := e.c.Client().CoreV1().Pods(e.labNamespace(user)).Get(background, user+"-nb", metav1.GetOptions{})
		if err != nil || pod.Status.Phase != corev1.PodRunning {
			out = append(out, "lab pod of "+user+" not running")
		}
		if s := c.status(user); s != "running" {
			out = append(out, "status of "+user+" is "+s)
		}
	}
	for _, user := range others {
		if s := c.status(user); s != "" {
			out = append(out, "status of "+user+" is "+s)
		}
	}
	pods, err := e.c.Client().CoreV1().Pods(e.ns).List(background, metav1.ListOptions{
		LabelSelector: "nublado.lsst.io/category=prepuller"})
	require.NoError(t, err)
	if n := len(pods.Items); n > 0 {
		out = append(out, "prepull pods left")
	}
	return out
}

// restartAPIServer restarts the shared API server in the background and
// returns a channel that receives its result and how long it took. The
// cluster's controllers are restarted after it (RestartControllers): the
// tests check the controller's recovery, and its later spawns need a quota
// controller that sees new namespaces, which kube-controller-manager's stale
// informers may not for minutes after an API server restart here.
func restartAPIServer(c *testcluster.Cluster) <-chan restartResult {
	out := make(chan restartResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(background, 2*time.Minute)
		defer cancel()
		begin := time.Now()
		err := c.RestartAPIServer(ctx)
		ready := time.Now()
		if err == nil {
			err = c.RestartControllers(ctx)
		}
		out <- restartResult{err: err, took: ready.Sub(begin), at: begin, ready: ready}
	}()
	return out
}

type restartResult struct {
	err       error
	took      time.Duration
	at, ready time.Time
}
