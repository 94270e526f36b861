package golden_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/schema"
)

// benchCase is the configuration of the render benchmarks: file servers
// and fsadmin with every optional key.
const benchCase = "services-full"

// servicesRenderer loads the configuration of benchCase and compiles the
// templates with it.
func servicesRenderer(t testing.TB, opts ...engine.Option) (*schema.Config, *engine.Renderer) {
	t.Helper()
	cfg, err := schema.Load(filepath.Join("testdata", benchCase, "config.yaml"),
		schema.WithoutEnv())
	require.NoError(t, err)
	r, err := engine.New(nublado.CUE, append(opts, engine.Config(cfg))...)
	require.NoError(t, err)
	return cfg, r
}

// benchEnv is the controller's environment of the benchmarks.
var benchEnv = schema.Environment{ControllerImage: schema.ContainerImage{
	Repository: "ghcr.io/lsst-sqre/nublado", Tag: "15.1.0", PullPolicy: "IfNotPresent",
}}

// serviceInputs returns n inputs of template, each for a different user,
// tag or node; none adds a map key (see engine's TestMemoryFlat).
func serviceInputs(t testing.TB, cfg *schema.Config, template string, n int) []any {
	t.Helper()
	inputs := make([]any, n)
	for i := range inputs {
		var (
			in  any
			err error
		)
		switch template {
		case "fileserver":
			uid := int64(10000 + i)
			in, err = cfg.FileserverInput(benchEnv, nublado.User{
				Username: fmt.Sprintf("user%05d", i), UID: &uid, GID: &uid,
				Groups: []nublado.Group{{Name: fmt.Sprintf("user%05d", i), ID: uid}, {Name: "astronomers", ID: 3001}},
			})
		case "fsadmin":
			in, err = cfg.FSAdminInput(benchEnv, fmt.Sprintf("nublado-%d", i%7))
		case "prepull":
			in, err = cfg.PrepullInput(schema.PrepullRequest{
				Namespace: "nublado", OwnerName: "nublado-controller", OwnerUID: "0b6f2c1e-8d4a-4f3e-9a71-5c2d8e4b1f09",
				Image: fmt.Sprintf("registry.example.org/lsst-sqre/sciplat-lab:w_2077_%02d@sha256:%064x", i%52, i),
				Tag:   fmt.Sprintf("w_2077_%02d", i%52), Node: fmt.Sprintf("node-%d", i%100),
			})
		}
		require.NoError(t, err)
		inputs[i] = in
	}
	return inputs
}

func benchmarkService(b *testing.B, template string, opts ...engine.Option) {
	cfg, r := servicesRenderer(b, opts...)
	inputs := serviceInputs(b, cfg, template, 1000)
	b.ReportAllocs()
	start := cpuTime()
	i := 0
	for b.Loop() {
		if _, err := r.Render(template, inputs[i%len(inputs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	reportCPU(b, start)
}

// BenchmarkRenderFileserver renders the four file-server objects for a
// different user each time (the request path).
func BenchmarkRenderFileserver(b *testing.B) { benchmarkService(b, "fileserver") }

// BenchmarkRenderFileserverStrict checks every object against its schema.
func BenchmarkRenderFileserverStrict(b *testing.B) {
	benchmarkService(b, "fileserver", engine.Strict())
}

// BenchmarkRenderFSAdmin renders the three fsadmin PVCs and the pod.
func BenchmarkRenderFSAdmin(b *testing.B) { benchmarkService(b, "fsadmin") }

// BenchmarkRenderFSAdminStrict checks every object against its schema.
func BenchmarkRenderFSAdminStrict(b *testing.B) { benchmarkService(b, "fsadmin", engine.Strict()) }

// BenchmarkRenderPrepull renders one prepull pod for a different image and
// node each time.
func BenchmarkRenderPrepull(b *testing.B) { benchmarkService(b, "prepull") }

// BenchmarkRenderPrepullStrict checks the pod against its schema.
func BenchmarkRenderPrepullStrict(b *testing.B) { benchmarkService(b, "prepull", engine.Strict()) }

// servicesRendersEnv sets the number of renders per template of
// TestServicesMemoryFlat (default 1000).
const servicesRendersEnv = "NUBLADO_SERVICES_RENDERS"

// TestServicesMemoryFlat renders file servers, fsadmin pods and prepull
// pods for ever new users, images and nodes on one Renderer: the live heap
// after the last render stays within 10 MB of the live heap after the
// first 300 of each.
func TestServicesMemoryFlat(t *testing.T) {
	renders := 1000
	if s := os.Getenv(servicesRendersEnv); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "parsing %s", servicesRendersEnv)
		renders = n
	}
	cfg, r := servicesRenderer(t)
	templates := []string{"fileserver", "fsadmin", "prepull"}
	inputs := map[string][]any{}
	for _, tmpl := range templates {
		inputs[tmpl] = serviceInputs(t, cfg, tmpl, renders)
	}
	var base uint64
	for i := range renders {
		for _, tmpl := range templates {
			_, err := r.Render(tmpl, inputs[tmpl][i])
			require.NoError(t, err, "Render(%s) #%d", tmpl, i)
		}
		if i == 299 {
			base = liveHeap()
		}
	}
	end := liveHeap()
	growth := int64(end) - int64(base)
	t.Logf("%d renders of each template: live heap %.1f MiB after 300, %.1f MiB at the end (%+.2f MiB)",
		renders, float64(base)/(1<<20), float64(end)/(1<<20), float64(growth)/(1<<20))
	require.Less(t, growth, int64(10<<20), "live heap growth over %d renders of each template", renders)
	runtime.KeepAlive(r)
}

// liveHeap returns the live heap in bytes after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
