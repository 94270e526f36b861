package engine_test

import (
	"testing"

	"github.com/nublado-go/nublado/engine"
)

// BenchmarkRender renders the ten-object test lab for a different user each
// time, without the Kubernetes schemas (the request path).
func BenchmarkRender(b *testing.B) {
	benchmarkRender(b, newRenderer(b, "templates"))
}

// BenchmarkRenderStrict is BenchmarkRender with every object unified with its
// Kubernetes definition.
func BenchmarkRenderStrict(b *testing.B) {
	benchmarkRender(b, newRenderer(b, "templates", engine.Strict()))
}

func benchmarkRender(b *testing.B, r *engine.Renderer) {
	inputs := make([]labInput, 1000)
	for i := range inputs {
		inputs[i] = newLabInput(i)
	}
	b.ReportAllocs()
	start := cpuTime()
	i := 0
	for b.Loop() {
		if _, err := r.Render("lab", inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCPU(b, start)
}

// BenchmarkRenderParallel renders from GOMAXPROCS goroutines on one Renderer
// (run with -cpu 1,2 to see how renders scale on a shared context).
func BenchmarkRenderParallel(b *testing.B) {
	r := newRenderer(b, "templates")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := r.Render("lab", newLabInput(i)); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkNew reads, parses and compiles the test templates, with and
// without the Kubernetes schemas of strict mode.
func BenchmarkNew(b *testing.B) {
	for _, strict := range []bool{false, true} {
		name := "plain"
		var opts []engine.Option
		if strict {
			name = "strict"
			opts = append(opts, engine.Strict())
		}
		b.Run(name, func(b *testing.B) {
			fsys := testFS(b, "templates")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := engine.New(fsys, opts...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
