//go:build conformance

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformancePurger holds the original's purger test data, read in place.
var conformancePurger = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "purger")

// TestConformancePurgerCLI runs the original's CLI checks (tools.md §2.8) with
// its config.yaml and policy.yaml; the policy's paths are rewritten to a
// temporary tree (first entry <tmp>/scratch, second <tmp>/scratch/foo/bar).
func TestConformancePurgerCLI(t *testing.T) {
	f := newPurgerFixture(t)
	data, err := os.ReadFile(filepath.Join(conformancePurger, "policy.yaml"))
	require.NoError(t, err)
	policy := strings.Replace(string(data), "path: /scratch/foo/bar", "path: "+filepath.Join(f.tmp, "scratch/foo/bar"), 1)
	policy = strings.Replace(policy, "path: /scratch\n", "path: "+filepath.Join(f.tmp, "scratch")+"\n", 1)
	require.NotEqual(t, string(data), policy)
	policyFile := filepath.Join(f.tmp, "conformance-policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte(policy), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(f.tmp, "scratch/foo/bar"), 0o755))
	config := filepath.Join(conformancePurger, "config.yaml")

	code, out, errOut := runCLI(t, "purger", "report", "-c", config, "-p", policyFile)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "-> "+f.old)

	code, out, errOut = runCLI(t, "purger", "execute", "-c", config, "-p", policyFile, "--dry-run")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "Cannot purge because dry_run enabled")
	assert.True(t, exists(f.old))

	t.Setenv("NUBLADO_DRY_RUN", "true")
	code, out, _ = runCLI(t, "purger", "execute", "-c", config, "-p", policyFile)
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "Cannot purge because dry_run enabled", "env overrides dryRun: false")
	t.Setenv("NUBLADO_DRY_RUN", "")

	t.Setenv("RSP_SCRATCHPURGER_CONFIG_FILE", config)
	code, out, errOut = runCLI(t, "purger", "execute", "-p", policyFile)
	require.Equal(t, ExitOK, code, errOut)
	assert.NotContains(t, out, "Cannot purge because dry_run enabled")
	assert.False(t, exists(f.old))
	assert.True(t, exists(f.fresh))

	code, _, _ = runCLI(t, "purger", "report", "-c", filepath.Join(f.tmp, "nope.yaml"))
	assert.Equal(t, ExitFailure, code)
}
