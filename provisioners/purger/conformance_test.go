//go:build conformance

package purger

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceDir holds the original's purger test data, read in place.
var conformanceDir = filepath.Join("..", "..", "..", "shared", "conformance", "nublado-15.1.0", "purger")

func conformancePolicy(t *testing.T, name, tmp string) *Policy {
	t.Helper()
	return loadPolicy(t, filepath.Join(conformanceDir, name), tmp)
}

// TestConformancePolicies runs the original's test-pinned planning cases
// (tools.md §2.8) on its policy files.
func TestConformancePolicies(t *testing.T) {
	cases := map[string]struct {
		policy string
		setup  func(t *testing.T, tmp string)
		ahead  time.Duration
		want   []string
	}{
		"FreshFilesEmptyPlan": {policy: "policy.yaml", want: []string{}},
		"LargeAtime": {
			policy: "policy.yaml",
			setup:  func(t *testing.T, tmp string) { age(t, filepath.Join(tmp, "scratch/large"), ATime, 8*time.Hour) },
			want:   []string{"scratch/large"},
		},
		"LargeMtime": {
			policy: "policy.yaml",
			setup:  func(t *testing.T, tmp string) { age(t, filepath.Join(tmp, "scratch/large"), MTime, 8*time.Hour) },
			want:   []string{"scratch/large"},
		},
		"LowCtime": {policy: "policy_low_ctime.yaml", ahead: 1500 * time.Millisecond, want: []string{"scratch/small"}},
		"Threshold": {
			policy: "policy.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/small"), ATime, 3*time.Hour)
				age(t, filepath.Join(tmp, "scratch/large"), ATime, 3*time.Hour)
			},
			want: []string{"scratch/large"},
		},
		"NoSmall": {
			policy: "policy_no_small.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/small"), ATime, 1000*7*24*time.Hour)
			},
			want: []string{},
		},
		"SubdirectoryPolicy": {
			policy: "policy.yaml",
			setup: func(t *testing.T, tmp string) {
				age(t, filepath.Join(tmp, "scratch/foo/bar/large"), ATime, 8*time.Hour)
			},
			want: []string{"scratch/foo/bar/large"},
		},
		"Future3650d": {
			policy: "policy.yaml",
			ahead:  3650 * 24 * time.Hour,
			want:   []string{"scratch/foo/bar/large", "scratch/large", "scratch/medium", "scratch/small"},
		},
		"SmallPolicyFuture": {
			policy: "policy_small.yaml",
			ahead:  3650 * 24 * time.Hour,
			want: []string{"scratch/foo/bar/large", "scratch/foo/bar/medium", "scratch/foo/bar/small",
				"scratch/large", "scratch/medium", "scratch/small"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tmp := makeTree(t)
			p := conformancePolicy(t, tc.policy, tmp)
			if tc.setup != nil {
				tc.setup(t, tmp)
			}
			plan, err := MakePlan(context.Background(), p, time.Now().Add(tc.ahead))
			require.NoError(t, err)
			assert.Equal(t, tc.want, plannedRel(t, plan, tmp))
		})
	}
}

func TestConformanceExecute(t *testing.T) {
	tmp := makeTree(t)
	p := conformancePolicy(t, "policy.yaml", tmp)
	deleteMe := filepath.Join(tmp, "scratch/foo/bar/delete_me")
	require.NoError(t, os.Mkdir(deleteMe, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(deleteMe, "large"), []byte(fixtureFiles["large"]), 0o644))
	age(t, filepath.Join(tmp, "scratch/large"), ATime, 8*time.Hour)
	age(t, filepath.Join(deleteMe, "large"), ATime, 8*time.Hour)
	plan, err := MakePlan(context.Background(), p, time.Now())
	require.NoError(t, err)
	_, err = Purge(context.Background(), plan)
	require.NoError(t, err)
	assert.False(t, exists(t, filepath.Join(tmp, "scratch/large")))
	assert.False(t, exists(t, deleteMe), "newly emptied non-policy subdirectory removed")
	for _, f := range []string{"scratch/small", "scratch/medium", "scratch/foo/bar/large", "scratch/foo"} {
		assert.True(t, exists(t, filepath.Join(tmp, f)), f)
	}
}

func TestConformanceConfig(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join(conformanceDir, "config.yaml"), nil)
	require.NoError(t, err)
	assert.Equal(t, "/etc/purger/policy.yaml", cfg.PolicyFile)
	assert.False(t, cfg.DryRun)
	assert.Equal(t, "DEBUG", cfg.LogLevel)
	cfg, err = ReadConfig(filepath.Join(conformanceDir, "config.yaml"), []string{"NUBLADO_DRY_RUN=true", "NUBLADO_DEBUG=true"})
	require.NoError(t, err)
	assert.True(t, cfg.DryRun, "env overrides YAML")
	assert.True(t, cfg.Debug)
}
