package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/nublado-go/nublado/internal/testcluster"
)

// TestMain lets the test binary act as the command: `up` re-executes its own
// executable as `serve`.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestUpDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin, err := testcluster.FindBinDir()
	require.NoError(t, err)
	state := filepath.Join(t.TempDir(), "cluster")
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(state, logFile))
			t.Logf("supervisor log:\n%s", lastLines(log, 40))
		}
		assert.NoError(t, down(context.Background(), &bytes.Buffer{}, state))
	})

	var out bytes.Buffer
	start := time.Now()
	require.NoError(t, up(ctx, &out, state, bin))
	t.Logf("up took %s", time.Since(start))
	kubeconfig := filepath.Join(state, "kubeconfig")
	assert.Contains(t, out.String(), "kubeconfig: "+kubeconfig)

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	require.NoError(t, err)
	client, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, nodes.Items, 3, "fake nodes")

	out.Reset()
	require.NoError(t, up(ctx, &out, state, bin))
	assert.Contains(t, out.String(), "already running")

	data, err := os.ReadFile(filepath.Join(state, pidFile))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)

	out.Reset()
	require.NoError(t, down(ctx, &out, state))
	assert.Contains(t, out.String(), "stopped")
	assert.False(t, alive(pid), "supervisor still running after down")
	_, err = os.Stat(state)
	assert.True(t, os.IsNotExist(err), "state directory left behind: %v", err)
	_, err = client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	assert.Error(t, err, "API server still answering after down")

	out.Reset()
	require.NoError(t, down(ctx, &out, state))
	assert.Contains(t, out.String(), "not running")
}
