package schema_test

import (
	"path/filepath"
	"testing"

	"github.com/nublado-go/nublado/schema"
)

// BenchmarkLoadFull loads deploy/examples/full.yaml, which uses every
// section.
func BenchmarkLoadFull(b *testing.B) {
	f := filepath.Join("..", "deploy", "examples", "full.yaml")
	for b.Loop() {
		if _, err := schema.Load(f, schema.WithLookupEnv(noEnv)); err != nil {
			b.Fatal(err)
		}
	}
}
