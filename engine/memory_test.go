package engine_test

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// rendersEnv sets the number of renders of TestMemoryFlat; `make bench`
// sets it to 50000.
const rendersEnv = "NUBLADO_ENGINE_RENDERS"

// liveHeap returns the live heap in bytes after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestMemoryFlat renders many different users on one Renderer: the live heap
// after the last render stays within 20 MB of the live heap after the first
// 1,000. Every input carries two map keys never seen before, the worst case:
// CUE v0.17 interns every label in a process-wide table that nothing frees
// (about 75 bytes each, +7.3 MiB over 50,000 such renders). With the fixed
// key sets of real inputs the heap does not grow at all (+0.01 MiB over
// 20,000 renders, with or without rebuilding the context now and then).
func TestMemoryFlat(t *testing.T) {
	renders := 5000
	if s := os.Getenv(rendersEnv); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "parsing %s", rendersEnv)
		renders = n
	}
	r := newRenderer(t, "templates")
	var base uint64
	for i := range renders {
		_, err := r.Render("lab", newLabInput(i))
		require.NoError(t, err, "Render(lab) #%d", i)
		if i == 999 {
			base = liveHeap()
		}
	}
	end := liveHeap()
	growth := int64(end) - int64(base)
	t.Logf("%d renders: live heap %.1f MiB after 1,000, %.1f MiB at the end (%+.2f MiB)",
		renders, mib(base), mib(end), float64(growth)/(1<<20))
	require.Less(t, growth, int64(20<<20), "live heap growth over %d renders", renders)
	runtime.KeepAlive(r)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
