package testkit

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// SubsetDiff returns "" when got holds everything of want, else the first
// difference, after a JSON round trip of both (so numbers compare equal).
// Maps may have more keys and lists more entries at their end (admission
// adds the service-account token's volume and mount to a pod); a zero
// value of want may be missing, as the API server drops omitempty fields.
// path names the root in the difference.
func SubsetDiff(t testing.TB, want, got any, path string) string {
	t.Helper()
	return subsetDiff(normalise(t, want), normalise(t, got), path)
}

// normalise round-trips v through JSON, so that numbers compare equal.
func normalise(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(data, &out))
	return out
}

func subsetDiff(want, got any, path string) string {
	if got == nil && (want == false || want == 0.0 || want == "") {
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want a map, got %v", path, got)
		}
		for _, k := range slices.Sorted(maps.Keys(w)) {
			if d := subsetDiff(w[k], g[k], path+"."+k); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) < len(w) {
			return fmt.Sprintf("%s: want %v, got %v", path, want, got)
		}
		for i := range w {
			if d := subsetDiff(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
	default:
		if want != got {
			return fmt.Sprintf("%s: want %v, got %v", path, want, got)
		}
	}
	return ""
}
