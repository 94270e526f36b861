package prepuller_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/server/prepuller"
)

// benchService is an image service over a registry of about 200 tags
// (weeklies and dailies of two years, releases, aliases) and 10 nodes,
// refreshed once.
func benchService(b *testing.B) (*prepuller.Service, *registry) {
	b.Helper()
	tags := map[string]string{"recommended": "sha256:w2077_40", "latest_weekly": "sha256:w2077_52"}
	for year := 2076; year <= 2077; year++ {
		for week := 1; week <= 52; week++ {
			tag := fmt.Sprintf("w_%d_%02d", year, week)
			tags[tag] = "sha256:" + tag
		}
		for month := 1; month <= 12; month++ {
			tag := fmt.Sprintf("d_%d_%02d_01", year, month)
			tags[tag] = "sha256:" + tag
		}
	}
	for minor := range 20 {
		tag := fmt.Sprintf("r%d_%d_0", 20+minor/5, minor%5)
		tags[tag] = "sha256:" + tag
	}
	reg := imagestest.NewRegistry(b)
	r := &registry{server: reg.Server, transport: reg.Transport(), real: reg.Push(b, repository, tags)}
	c := testcluster.Shared(b)
	value := "bench"
	for i := range 10 {
		imgs := r.cachedFrom(tags, "w_2077_52", "w_2077_51", "w_2077_40")
		name := fmt.Sprintf("bench-%d", i)
		_, err := c.AddNode(context.Background(), testcluster.Node{Name: name, Labels: map[string]string{"nublado.test/selector": value}, Images: imgs})
		require.NoError(b, err)
		b.Cleanup(func() { _ = c.RemoveNode(context.Background(), name) })
	}
	cfg := loadConfigTB(b, value)
	svc, _ := newService(b, cfg, r)
	require.NoError(b, svc.Refresh(context.Background()))
	return svc, r
}

func BenchmarkRefresh(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	for b.Loop() {
		if err := svc.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLabFormImages(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := svc.LabFormImages(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSpawnerImages(b *testing.B) {
	svc, _ := benchService(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := svc.SpawnerImages(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkResolve(b *testing.B) {
	svc, r := benchService(b)
	ctx := context.Background()
	req := nublado.ImageRequest{Attribute: nublado.ImageList, Value: repository + ":recommended@" + r.real["sha256:w2077_40"]}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Resolve(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPrepullRound: one prepull round over 50 fake nodes that lack
// all 6 images of the prepull set (300 pods), with the client rate limit
// of serve (apply.DefaultQPS/DefaultBurst) and [prepuller.DefaultNodeWorkers]
// or 50 nodes at a time. Each iteration refreshes first, which forgets
// what the previous round pulled (the nodes never report the images).
// Run with -benchtime=1x: one round takes seconds.
func BenchmarkPrepullRound(b *testing.B) {
	const nodes = 50
	reg := imagestest.NewRegistry(b)
	r := &registry{server: reg.Server, transport: reg.Transport(), real: reg.Push(b, repository, fixture)}
	c := testcluster.Shared(b)
	var wg sync.WaitGroup
	for i := range nodes {
		name := fmt.Sprintf("prepull-bench-%02d", i)
		wg.Go(func() {
			_, err := c.AddNode(context.Background(), testcluster.Node{Name: name, Labels: map[string]string{"nublado.test/selector": "prepull-bench"}})
			assert.NoError(b, err)
		})
		b.Cleanup(func() { _ = c.RemoveNode(context.Background(), name) })
	}
	wg.Wait()
	for _, workers := range []int{prepuller.DefaultNodeWorkers, nodes} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cfg := loadConfigTB(b, "prepull-bench")
			cfg.Images.NumWeeklies, cfg.Images.NumDailies = 3, 2
			src, closer, err := prepuller.NewSource(context.Background(), cfg.Images, prepuller.SourceOptions{
				Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(r.transport)},
			})
			require.NoError(b, err)
			b.Cleanup(func() { _ = closer.Close() })
			e := newPullerEnv(b, cfg, src, "", prepuller.WithNodeWorkers(workers))
			e.refresh(func(s *prepuller.Service) bool { return len(s.Catalog().Nodes()) == nodes })
			require.Len(b, e.svc.Catalog().PrepullImages(), 6)
			ctx := context.Background()
			var pods, failed int
			for b.Loop() {
				b.StopTimer()
				require.NoError(b, e.svc.Refresh(ctx))
				b.StartTimer()
				res, err := e.puller.Round(ctx)
				require.NoError(b, err)
				pods += res.Pods
				failed += res.Failed
			}
			b.ReportMetric(float64(pods)/float64(b.N), "pods/op")
			b.ReportMetric(float64(failed)/float64(b.N), "failed/op")
		})
	}
}
