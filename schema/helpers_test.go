package schema_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-multierror"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado/schema"
)

// deleted in a patch removes the key from the base.
const deleted = "__delete__"

// patched returns testdata/base.yaml with patch (YAML) merged in: maps
// merge recursively, other values replace, and the string __delete__
// removes a key.
func patched(t *testing.T, patch string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "base.yaml"))
	require.NoError(t, err)
	var base, p map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &base))
	require.NoError(t, yaml.Unmarshal([]byte(patch), &p), "patch %q", patch)
	merge(base, p)
	out, err := yaml.Marshal(base)
	require.NoError(t, err)
	return out
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if s, ok := v.(string); ok && s == deleted {
			delete(dst, k)
			continue
		}
		sm, ok1 := v.(map[string]any)
		dm, ok2 := dst[k].(map[string]any)
		if ok1 && ok2 {
			merge(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// parse parses data with an empty environment.
func parse(t *testing.T, data []byte) (*schema.Config, error) {
	t.Helper()
	return schema.Parse(data, "config.yaml", schema.WithLookupEnv(noEnv))
}

// fieldErrors returns the FieldErrors of a Load error.
func fieldErrors(t *testing.T, err error) []*schema.FieldError {
	t.Helper()
	var merr *multierror.Error
	require.True(t, errors.As(err, &merr), "error %v is not a *multierror.Error", err)
	var out []*schema.FieldError
	for _, e := range merr.Errors {
		var fe *schema.FieldError
		require.True(t, errors.As(e, &fe), "error %v is not a *FieldError", e)
		out = append(out, fe)
	}
	return out
}
