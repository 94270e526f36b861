package purger

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchFiles is the size of the benchmark tree: 20 × 10 directories of 1,000
// files each.
const benchFiles = 200_000

var (
	benchOnce sync.Once
	benchRoot string
	benchErr  error
)

// benchTree builds the benchmark tree once per test binary run; TestMain
// removes it.
func benchTree(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		benchRoot, benchErr = os.MkdirTemp("", "purger-bench-")
		if benchErr != nil {
			return
		}
		n := 0
		for i := 0; i < 20 && benchErr == nil; i++ {
			for j := 0; j < 10 && benchErr == nil; j++ {
				dir := filepath.Join(benchRoot, "scratch", fmt.Sprintf("user%02d", i), fmt.Sprintf("dir%d", j))
				if benchErr = os.MkdirAll(dir, 0o755); benchErr != nil {
					return
				}
				for k := 0; k < benchFiles/200; k++ {
					content := []byte(nil)
					if k%2 == 0 {
						content = []byte("large enough")
					}
					if benchErr = os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", k)), content, 0o644); benchErr != nil {
						return
					}
					n++
				}
			}
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return filepath.Join(benchRoot, "scratch")
}

func removeBenchTree() {
	if benchRoot != "" {
		_ = os.RemoveAll(benchRoot)
	}
}

// BenchmarkPlan200k plans over a tree of 200,000 files; half of them (the
// large ones) are due.
func BenchmarkPlan200k(b *testing.B) {
	root := benchTree(b)
	p := &Policy{Directories: []DirectoryPolicy{{
		Path: root, Threshold: 10,
		Intervals: Intervals{Large: SizeIntervals{Access: time.Minute}, Small: SizeIntervals{Access: 30 * 24 * time.Hour}},
	}}}
	when := time.Now().Add(time.Hour)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan, err := MakePlan(context.Background(), p, when)
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Files) != benchFiles/2 || len(plan.Errors) != 0 {
			b.Fatalf("planned %d files with %d errors, want %d", len(plan.Files), len(plan.Errors), benchFiles/2)
		}
	}
	b.ReportMetric(float64(benchFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
