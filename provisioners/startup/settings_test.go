package startup

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInteractiveSettings(t *testing.T) {
	rel := filepath.Join("home", "hambone", trackerSettings)
	cases := map[string]struct {
		existing string // "" = no file
		want     string
	}{
		"created": {
			want: "{\n    \"maxNumberOutputs\": 10000\n}",
		},
		"raised, other settings kept": {
			existing: `{"recordTiming": true, "maxNumberOutputs": 50, "kernelShutdown": {"x": "é"}}`,
			want:     "{\n    \"kernelShutdown\": {\n        \"x\": \"\\u00e9\"\n    },\n    \"maxNumberOutputs\": 10000,\n    \"recordTiming\": true\n}",
		},
		"large enough": {
			existing: `{"maxNumberOutputs": 20000.5, "a": 1}`,
			want:     `{"maxNumberOutputs": 20000.5, "a": 1}`,
		},
		"not a number": {
			existing: `{"maxNumberOutputs": "many"}`,
			want:     "{\n    \"maxNumberOutputs\": 10000\n}",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if tc.existing != "" {
				f.write(t, rel, tc.existing)
			}
			res := f.run(t)
			require.Nil(t, res.Abnormal)
			assert.Equal(t, tc.want, string(f.read(t, rel)))
		})
	}
}

// TestInteractiveSettingsInvalid: a settings file that is not a JSON object
// makes the startup abnormal (the original failed the init container).
func TestInteractiveSettingsInvalid(t *testing.T) {
	for name, text := range map[string]string{
		"not JSON":      `{"maxNumberOutputs": 5,}`,
		"array":         `[1]`,
		"null":          `null`,
		"trailing data": `{} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.write(t, filepath.Join("home", "hambone", trackerSettings), text)
			res := f.run(t)
			require.NotNil(t, res.Abnormal, "settings %q", text)
			assert.Equal(t, EUNKNOWN, res.Abnormal.Errno)
			assert.Equal(t, "EUNKNOWN", res.Abnormal.Code)
			assert.Contains(t, res.Abnormal.Strerror, "tracker.jupyterlab.settings")
		})
	}
}
