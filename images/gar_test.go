package images

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/nublado-go/nublado/images/imagestest"
)

var testGARConfig = GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"}

// garImages is the listing behind testGAR(), plus another image of the
// repository and an untagged version.
func garImages(cfg GARConfig) []*artifactregistrypb.DockerImage {
	img := func(image, digest string, size int64, tags ...string) *artifactregistrypb.DockerImage {
		return &artifactregistrypb.DockerImage{
			Name:           cfg.Parent() + "/dockerImages/" + image + "@" + digest,
			Uri:            cfg.Registry() + "/" + cfg.ProjectID + "/" + cfg.Repository + "/" + image + "@" + digest,
			Tags:           tags,
			ImageSizeBytes: size,
			MediaType:      "application/vnd.docker.distribution.manifest.v2+json",
		}
	}
	return []*artifactregistrypb.DockerImage{
		img("sciplat-lab", "sha256:bbb", 1001, "w_2077_44-amd64"),
		img("sciplat-lab", "sha256:aaa", 1000, "w_2077_43", "recommended", "latest_weekly"),
		img("some-other-image", "sha256:fff", 2345, "bogus", "0.14"),
		img("sciplat-lab", "sha256:ccc", 1002, "w_2077_42"),
		img("sciplat-lab", "sha256:ddd", 1003, "w_2077_41"),
		img("sciplat-lab", "sha256:000", 99),
		img("sciplat-lab", "sha256:eee", 1004, "exp_w_2077_41_testing"),
	}
}

// startGAR serves images on a local port and returns a connected client
// whose retry hook records the attempts.
func startGAR(t testing.TB, cfg GARConfig, images []*artifactregistrypb.DockerImage, pageSize int) (*imagestest.GARServer, *GARClient, *[]int) {
	t.Helper()
	srv, opts := imagestest.StartGAR(t, cfg.Parent(), images, pageSize)
	var mu sync.Mutex
	var attempts []int
	client, err := NewGARClient(context.Background(), cfg,
		WithClientOptions(opts...),
		WithRetryDelay(time.Millisecond),
		WithRetryHook(func(attempt int, _ error) {
			mu.Lock()
			defer mu.Unlock()
			attempts = append(attempts, attempt)
		}),
	)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	return srv, client, &attempts
}

func imageKeys(imgs []*Image) []string {
	var out []string
	for _, img := range imgs {
		out = append(out, fmt.Sprintf("%s@%s/%d", img.Reference(), img.Digest, img.Size))
	}
	return out
}

func TestGARListImages(t *testing.T) {
	var want []string
	for _, img := range testGAR() {
		want = append(want, fmt.Sprintf("%s@%s/%d", img.Reference(), img.Digest, img.Size))
	}
	cases := map[string]struct {
		pageSize  int
		failOn    map[int]codes.Code
		wantCalls int
		attempts  []int
	}{
		"OnePage":             {10, nil, 1, nil},
		"AllPages":            {2, nil, 4, nil},
		"Hidden503":           {2, map[int]codes.Code{2: codes.Unavailable}, 6, []int{1}},
		"Hidden500":           {3, map[int]codes.Code{1: codes.Internal}, 4, []int{1}},
		"ThreeFailuresThenOK": {10, map[int]codes.Code{1: codes.Unavailable, 2: codes.Internal, 3: codes.Unavailable}, 4, []int{1, 2, 3}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv, client, attempts := startGAR(t, testGARConfig, garImages(testGARConfig), tc.pageSize)
			for k, v := range tc.failOn {
				srv.FailOn(k, v)
			}
			got, err := client.ListImages(context.Background())
			require.NoError(t, err)
			assert.ElementsMatch(t, want, imageKeys(got), "ListImages")
			assert.Equal(t, tc.wantCalls, srv.ListCalls(), "ListDockerImages calls")
			assert.Equal(t, tc.attempts, *attempts, "retried attempts")
		})
	}
}

func TestGARListImagesFailures(t *testing.T) {
	t.Run("FourFailures", func(t *testing.T) {
		srv, client, attempts := startGAR(t, testGARConfig, garImages(testGARConfig), 10)
		for i := 1; i <= 4; i++ {
			srv.FailOn(i, codes.Unavailable)
		}
		_, err := client.ListImages(context.Background())
		require.Error(t, err)
		assert.Equal(t, codes.Unavailable, status.Code(err), "the final attempt's error")
		assert.Equal(t, 4, srv.ListCalls())
		assert.Equal(t, []int{1, 2, 3}, *attempts)
	})
	t.Run("NotRetryable", func(t *testing.T) {
		srv, client, attempts := startGAR(t, testGARConfig, garImages(testGARConfig), 10)
		srv.FailOn(1, codes.PermissionDenied)
		_, err := client.ListImages(context.Background())
		assert.Equal(t, codes.PermissionDenied, status.Code(err))
		assert.Equal(t, 1, srv.ListCalls())
		assert.Empty(t, *attempts)
	})
	t.Run("EmptyListingIsRetriedOnce", func(t *testing.T) {
		srv, client, _ := startGAR(t, testGARConfig, nil, 10)
		got, err := client.ListImages(context.Background())
		require.NoError(t, err)
		assert.Empty(t, got)
		assert.Equal(t, 2, srv.ListCalls())
	})
	t.Run("CancelledWhileWaiting", func(t *testing.T) {
		srv, client, _ := startGAR(t, testGARConfig, garImages(testGARConfig), 10)
		srv.FailOn(1, codes.Unavailable)
		client.retryDelay = time.Hour
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := client.ListImages(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestGARSource(t *testing.T) {
	srv, client, _ := startGAR(t, testGARConfig, garImages(testGARConfig), 2)
	src := NewGARSource(client, DefaultSettings())
	got, err := src.Refresh(context.Background())
	require.NoError(t, err)
	want := NewGARCatalog(testGARConfig, DefaultSettings(), testGAR())
	wantJSON, err := json.Marshal(want.SpawnerImages())
	require.NoError(t, err)
	gotJSON, err := json.Marshal(got.SpawnerImages())
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON), "SpawnerImages of the refreshed catalog")

	d, err := src.Digest(context.Background(), "w_2077_42")
	require.NoError(t, err)
	assert.Equal(t, "sha256:ccc", d)
	_, err = src.Digest(context.Background(), "w_1999_01")
	var nf *TagNotFoundError
	require.ErrorAs(t, err, &nf)

	srv.FailOn(srv.ListCalls()+1, codes.PermissionDenied)
	_, err = src.Refresh(context.Background())
	assert.Equal(t, codes.PermissionDenied, status.Code(err), "a failed listing fails the refresh")
}

func TestGARDeleteDigests(t *testing.T) {
	srv, client, _ := startGAR(t, testGARConfig, garImages(testGARConfig), 10)
	var digests []string
	for i := range 120 {
		digests = append(digests, fmt.Sprintf("sha256:%03d", i))
	}
	digests = append(digests, "sha256:ccc")
	require.NoError(t, client.DeleteDigests(context.Background(), digests))
	require.Len(t, srv.Deletes(), 3)
	parent := "projects/proj/locations/us-central1/repositories/sciplat/packages/sciplat-lab"
	for i, n := range []int{50, 50, 21} {
		assert.Equal(t, parent, srv.Deletes()[i].GetParent())
		assert.Len(t, srv.Deletes()[i].GetNames(), n, "batch %d", i)
	}
	assert.Equal(t, parent+"/versions/sha256:000", srv.Deletes()[0].GetNames()[0])
	imgs, err := client.ListImages(context.Background())
	require.NoError(t, err)
	for _, img := range imgs {
		assert.NotEqual(t, "w_2077_42", img.Tag.Tag, "deleted")
	}
	require.NoError(t, client.DeleteDigests(context.Background(), nil), "nothing to delete")
	assert.Len(t, srv.Deletes(), 3)
}
