package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestApplyAndDiff drives `nublado apply` and `nublado diff` against a
// local control plane of its own.
func TestApplyAndDiff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := testcluster.Start(ctx, testcluster.Options{CRDDir: "-"})
	require.NoError(t, err, "starting the local control plane")
	t.Cleanup(func() { assert.NoError(t, c.Stop()) })
	kc := c.Kubeconfig()

	objects := `apiVersion: v1
kind: Namespace
metadata: {name: cli-test, labels: {app: cli-test}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: cli-test}
data: {a: "1"}
`
	file := filepath.Join(t.TempDir(), "objects.yaml")
	require.NoError(t, os.WriteFile(file, []byte(objects), 0o600))

	run := func(stdin string, args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Execute(ctx, args, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, stderr := run("", "diff", "-f", file, "--kubeconfig", kc)
	assert.Equal(t, 1, code, "diff before apply: stderr %q", stderr)
	assert.Contains(t, out, "+++ ConfigMap cli-test/settings (created)\n")

	code, out, stderr = run("", "apply", "-f", file, "--kubeconfig", kc)
	require.Equal(t, ExitOK, code, "apply: stderr %q", stderr)
	assert.Equal(t, "Namespace cli-test created\nConfigMap cli-test/settings created\n", out)

	code, out, stderr = run("", "apply", "-f", file, "--kubeconfig", kc, "--qps", "20", "--burst", "40")
	require.Equal(t, ExitOK, code, "apply again: stderr %q", stderr)
	assert.Equal(t, "Namespace cli-test unchanged\nConfigMap cli-test/settings unchanged\n", out)

	code, out, stderr = run("", "diff", "-f", file, "--kubeconfig", kc)
	assert.Equal(t, ExitOK, code, "diff after apply: stderr %q", stderr)
	assert.Empty(t, out)

	changed := `[{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "cli-test"}, "data": {"a": "2"}}]`
	code, out, stderr = run(changed, "diff", "-f", "-", "--kubeconfig", kc)
	assert.Equal(t, 1, code, "diff of a change: stderr %q", stderr)
	assert.Contains(t, out, "-  a: \"1\"\n+  a: \"2\"\n")

	code, out, stderr = run(changed, "apply", "-f", "-", "--kubeconfig", kc, "--wait")
	require.Equal(t, ExitOK, code, "apply from stdin: stderr %q", stderr)
	assert.Equal(t, "ConfigMap cli-test/settings configured\n", out)

	bad := `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "namespace": "cli-test"}, "spec": {"containers": []}}`
	code, _, stderr = run(bad, "apply", "-f", "-", "--kubeconfig", kc)
	assert.Equal(t, ExitFailure, code)
	assert.True(t, strings.HasPrefix(stderr, "Error: Error creating object (Pod cli-test/bad, status 422): "), stderr)

	code, _, stderr = run(bad, "diff", "-f", "-", "--kubeconfig", kc)
	assert.Equal(t, 2, code, "a failed diff: stderr %q", stderr)
}

func TestApplyUsage(t *testing.T) {
	cases := map[string]struct {
		args []string
		want int
	}{
		"apply without -f":      {[]string{"apply"}, ExitUsage},
		"diff without -f":       {[]string{"diff"}, ExitUsage},
		"apply missing file":    {[]string{"apply", "-f", "/nonexistent/objects.yaml"}, ExitFailure},
		"diff unreadable input": {[]string{"diff", "-f", "-"}, ExitFailure},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := Execute(context.Background(), tc.args, strings.NewReader("kind: [\n"), &out, &errb)
			assert.Equal(t, tc.want, got, "Execute(%q): stderr %q", tc.args, errb.String())
		})
	}
}
