package nublado_test

import (
	"encoding/json"
	"testing"

	nublado "github.com/nublado-go/nublado"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNotebookQuotaSpawnDefault(t *testing.T) {
	cases := map[string]struct {
		in   string
		want bool
	}{
		"absent": {`{"cpu": 9.0, "memory": 27}`, true},
		"true":   {`{"cpu": 9.0, "memory": 27, "spawn": true}`, true},
		"false":  {`{"cpu": 4.0, "memory": 16, "spawn": false}`, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var q nublado.NotebookQuota
			require.NoError(t, json.Unmarshal([]byte(tc.in), &q))
			assert.Equal(t, tc.want, q.Spawn, "Unmarshal(%s).Spawn", tc.in)
		})
	}
	var q nublado.NotebookQuota
	require.NoError(t, json.Unmarshal([]byte(`{"cpu": 9.0, "memory": 27}`), &q))
	assert.Equal(t, int64(28991029248), q.MemoryBytes())
}
