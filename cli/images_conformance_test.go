//go:build conformance

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImagesParseConformance runs `nublado images parse` over the tags of
// Nublado's rspimagetag fixtures and compares each object with its file.
func TestImagesParseConformance(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "shared", "conformance", "nublado-15.1.0", "controller", "rspimagetag", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	args := []string{"images", "parse"}
	for _, f := range files {
		args = append(args, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	var out, errb bytes.Buffer
	require.Equal(t, ExitOK, Execute(context.Background(), args, nil, &out, &errb), "stderr %q", errb.String())
	var got []json.RawMessage
	require.NoError(t, json.Unmarshal(out.Bytes(), &got))
	require.Len(t, got, len(files))
	for i, f := range files {
		want, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.JSONEq(t, string(want), string(got[i]), "nublado images parse %s", args[i+2])
	}
}
