package engine

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
)

// BenchmarkFillConfig measures what engine.Config saves every render:
// converting the controller configuration (testdata/lab/config.json) into
// CUE and unifying it with the templates.
func BenchmarkFillConfig(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("testdata", "lab", "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(data, &cfg); err != nil {
		b.Fatal(err)
	}
	v := cuecontext.New().CompileString("config: {...}")
	b.ReportAllocs()
	for b.Loop() {
		if err := v.FillPath(configPath, cfg).Validate(cue.Concrete(true)); err != nil {
			b.Fatal(err)
		}
	}
}
