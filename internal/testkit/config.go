package testkit

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

// ConfigOnce returns a function that loads the configuration at path,
// without environment overrides, on its first call and returns a shallow
// copy of it on every call (callers clone what they change below the top
// level); it fails the test when the file does not load.
func ConfigOnce(path string) func(testing.TB) *schema.Config {
	load := sync.OnceValues(func() (*schema.Config, error) { return schema.Load(path, schema.WithoutEnv()) })
	return func(t testing.TB) *schema.Config {
		t.Helper()
		cfg, err := load()
		require.NoError(t, err, "loading %s", path)
		c := *cfg
		return &c
	}
}
