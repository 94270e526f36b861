package schema_test

import (
	"testing"
)

// BenchmarkLabInput builds the complete lab input of one request (checks,
// quantities, environment, secrets, discovery file) with the full test
// configuration.
func BenchmarkLabInput(b *testing.B) {
	cfg := buildCfg(b, "")
	env, req := testEnvironment(), request()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := cfg.LabInput(env, req); err != nil {
			b.Fatal(err)
		}
	}
}
