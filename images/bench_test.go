package images

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images/imagestest"
)

// benchTags returns n distinct tags in the proportions of a real RSP
// repository: dailies, weeklies, releases and candidates, some with SAL
// cycles, RSP builds and architectures, plus experimentals and aliases.
func benchTags(n int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		cycle := fmt.Sprintf("_c%04d.%03d", 30+i%25, i%7)
		var tag string
		switch i % 10 {
		case 0, 1, 2, 3:
			tag = fmt.Sprintf("d_%d_%02d_%02d", 2020+i/400%60, 1+i/31%12, 1+i%28)
		case 4, 5:
			tag = fmt.Sprintf("w_%d_%02d", 2020+i/52%60, 1+i%52)
		case 6:
			tag = fmt.Sprintf("r%d_%d_%d_rsp%d", 20+i/100, i/10%10, i%10, i)
		case 7:
			tag = fmt.Sprintf("r%d_0_0_rc%d", 20+i/100, 1+i%9)
		case 8:
			tag = fmt.Sprintf("exp_w_%d_%02d_test%d", 2020+i/52%60, 1+i%52, i)
		case 9:
			tag = fmt.Sprintf("latest_%d", i)
		}
		tag += fmt.Sprintf("_x%d", i) // distinct
		if i%3 == 0 {
			tag += cycle
		}
		if i%5 == 0 {
			tag += "-amd64"
		}
		out = append(out, tag)
	}
	return out
}

// BenchmarkParseTags parses 10,000 tags per iteration.
func BenchmarkParseTags(b *testing.B) {
	tags := benchTags(10000)
	b.ReportAllocs()
	for b.Loop() {
		for _, t := range tags {
			_ = ParseTag(t)
		}
	}
}

// cycleTags are 5,000 tags where a third are of SAL cycle 42 (the cycle
// suffix is last, so the grammar reads it as part of the tag's SAL cycle
// only for unknown tags; versioned ones carry it in the middle).
func cycleTags(n int) ([]string, map[string]bool) {
	var out []string
	aliases := map[string]bool{}
	for i := 0; len(out) < n; i++ {
		c := 40 + i%3
		switch i % 6 {
		case 0:
			out = append(out, fmt.Sprintf("w_%d_%02d_c%04d.%03d", 2000+i/52, 1+i%52, c, i%10))
		case 1:
			out = append(out, fmt.Sprintf("d_%d_%02d_%02d_c%04d.%03d", 2000+i/336, 1+i/28%12, 1+i%28, c, i%10))
		case 2:
			out = append(out, fmt.Sprintf("r%d_%d_%d_c%04d.%03d_rsp%d", i/100, i/10%10, i%10, c, i%10, i))
		case 3:
			out = append(out, fmt.Sprintf("w_%d_%02d_c%04d.%03d-amd64", 2000+i/52, 1+i%52, c, i%10))
		case 4:
			a := fmt.Sprintf("recommended_%d_c%04d", i, c)
			aliases[a] = true
			out = append(out, a)
		case 5:
			out = append(out, fmt.Sprintf("exp_w_%d_%02d_c%04d.%03d_t%d", 2000+i/52, 1+i%52, c, i%10, i))
		}
	}
	return out, aliases
}

// BenchmarkTagCollection builds a collection of 5,000 tags with aliases
// and a cycle filter (target ≤ 20 ms).
func BenchmarkTagCollection(b *testing.B) {
	names, aliases := cycleTags(5000)
	cycle := 41
	b.ReportAllocs()
	for b.Loop() {
		c := TagCollectionFromNames(names, aliases, &cycle)
		if c.Len() == 0 {
			b.Fatal("empty collection")
		}
	}
}

// BenchmarkImageCollection builds a collection of 5,000 images with
// aliases resolved by digest and a cycle filter.
func BenchmarkImageCollection(b *testing.B) {
	names, aliases := cycleTags(5000)
	cycle := 41
	tags := TagsFromNames(names, aliases)
	b.ReportAllocs()
	for b.Loop() {
		imgs := make([]*Image, len(tags))
		for i, t := range tags {
			// Every alias shares its digest with the tag before it.
			d := i
			if t.Type == TypeAlias {
				d = i - 1
			}
			imgs[i] = NewImage(t, "registry.example.org", "lab/sciplat", fmt.Sprintf("sha256:%d", d))
		}
		c := NewImageCollection(imgs, &cycle)
		if c.Len() == 0 {
			b.Fatal("empty collection")
		}
	}
}

// BenchmarkDockerRefresh refreshes from the in-memory registry holding
// 2,000 tags listed in pages of 100.
func BenchmarkDockerRefresh(b *testing.B) {
	reg, _ := newMemRegistry(b, map[string]string{"w_2077_46": "sha256:1"}, imagestest.PageSize(100))
	img, err := random.Image(64, 1)
	require.NoError(b, err)
	tags := benchTags(1999)
	for _, t := range tags {
		ref, err := name.NewTag(reg.Host+"/"+testRepo+":"+t, name.Insecure)
		require.NoError(b, err)
		require.NoError(b, remote.Tag(ref, img))
	}
	src := NewDockerSource(memClient(b, reg), DefaultSettings(), 0)
	b.ReportAllocs()
	for b.Loop() {
		c, err := src.Refresh(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if len(c.SpawnerImages().All) == 0 {
			b.Fatal("no images")
		}
	}
}
