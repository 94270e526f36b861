//go:build conformance

package schema_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

// conformanceConfigs is the original's test configurations.
var conformanceConfigs = filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "controller", "config")

// TestConformanceConfigs loads every configuration of the original's tests:
// all load except no-home.yaml, and standard.yaml carries the D19 warning.
func TestConformanceConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(conformanceConfigs, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no configs under %s", conformanceConfigs)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			cfg, err := schema.Load(f, schema.WithLookupEnv(noEnv))
			if name == "no-home.yaml" {
				require.Error(t, err)
				fes := fieldErrors(t, err)
				require.Len(t, fes, 1)
				assert.Equal(t, "lab.homeVolumeName", fes[0].Path)
				assert.Equal(t, "A home volume is required", fes[0].Message)
				return
			}
			require.NoError(t, err, "Load(%s)", name)
			if name != "standard.yaml" {
				return
			}
			var got []string
			for _, w := range cfg.Warnings() {
				got = append(got, w.String())
			}
			require.Len(t, got, 1, "warnings of standard.yaml: %q", got)
			assert.True(t, strings.HasSuffix(got[0], `lab.tolerations.0.tolerationSeconds: Kubernetes rejects this pod: effect must be 'NoExecute' when tolerationSeconds is set (effect is "NoSchedule")`), got[0])
			assert.Equal(t, 10*1e9, float64(cfg.Lab.SpawnTimeout))
			assert.Equal(t, int64(7194070220), cfg.Lab.Sizes[2].Resources.Requests.Memory)
			assert.Equal(t, "2.25", cfg.Lab.Sizes[2].Resources.Requests.CPU.String())
		})
	}
}

// BenchmarkLoadStandard loads the original's standard.yaml.
func BenchmarkLoadStandard(b *testing.B) {
	f := filepath.Join(conformanceConfigs, "standard.yaml")
	for b.Loop() {
		if _, err := schema.Load(f, schema.WithLookupEnv(noEnv)); err != nil {
			b.Fatal(err)
		}
	}
}
