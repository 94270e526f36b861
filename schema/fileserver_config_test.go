package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

// TestFileserverDisabledIgnoresKeys: a disabled fileserver section may
// keep any other key, even values the enabled variant would convert or
// reject (§2.5); only pathPrefix is kept.
func TestFileserverDisabledIgnoresKeys(t *testing.T) {
	cfg, err := parse(t, patched(t, `
fileserver:
  enabled: false
  path_prefix: /webdav
  namespace: fileservers
  idleTimeout: 2h
  image: {repository: ghcr.io/lsst-sqre/worblehat, tag: "0.1"}
  resources:
    limits: {cpu: 1, memory: 512Mi}
    requests: {cpu: 0.1, memory: 128Mi}
`))
	require.NoError(t, err)
	assert.Equal(t, schema.FileserverConfig{PathPrefix: "/webdav"}, cfg.Fileserver)
}
