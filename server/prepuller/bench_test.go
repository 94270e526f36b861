package prepuller_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
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
