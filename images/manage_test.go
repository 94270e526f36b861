package images

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images/imagestest"
)

// manageFixture is a Docker repository: recommended is on the newest
// weekly, latest_old on a weekly that the policy below prunes, and
// w_2077_43 and d_2077_10_26 share an image that it prunes twice.
var manageFixture = map[string]string{
	"w_2077_46": "sha256:a", "recommended": "sha256:a",
	"w_2077_45": "sha256:b", "w_2077_45-amd64": "sha256:c",
	"w_2077_44": "sha256:d", "latest_old": "sha256:d",
	"w_2077_43": "sha256:e", "d_2077_10_26": "sha256:e",
	"d_2077_11_20": "sha256:f", "r24_0_0": "sha256:g", "exp_random": "sha256:h",
}

func utcDay(y int, m time.Month, d int) *time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &t
}

// managePolicy prunes weeklies before 2077-11-10 and dailies before
// 2077-11-01.
var managePolicy = FilterPolicy{Weekly: &Filter{CutoffDate: utcDay(2077, 11, 10)}, Daily: &Filter{CutoffDate: utcDay(2077, 11, 1)}}

// progressLog records Progress calls.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]int
}

func (p *progressLog) record(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, [2]int{done, total})
}

func TestManageDocker(t *testing.T) {
	ctx := context.Background()
	reg, _ := newMemRegistry(t, manageFixture, imagestest.PageSize(4))
	c := memClient(t, reg)
	all := []string{"r24_0_0", "w_2077_46", "w_2077_45", "w_2077_45-amd64", "w_2077_44", "w_2077_43",
		"d_2077_11_20", "d_2077_10_26", "exp_random", "recommended", "latest_old"}
	got, err := List(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, all, got, "List: collection order, aliases unknown and last")

	pruned := []string{"w_2077_44", "w_2077_43", "d_2077_10_26"}
	got, err = Prune(ctx, c, managePolicy, PruneOptions{DryRun: true, Progress: func(int, int) { t.Error("progress in a dry run") }})
	require.NoError(t, err)
	assert.Equal(t, pruned, got, "Prune dry run")
	assert.Empty(t, reg.Heads(), "a dry run looks up no digest")
	got, err = List(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, all, got, "a dry run deletes nothing")

	var progress progressLog
	got, err = Prune(ctx, c, managePolicy, PruneOptions{Progress: progress.record})
	require.NoError(t, err, "a tag whose image went with another tag is not an error")
	assert.Equal(t, pruned, got, "Prune")
	assert.Equal(t, [][2]int{{0, 2}, {2, 2}}, progress.calls, "two images deleted, once each")
	got, err = List(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, []string{"r24_0_0", "w_2077_46", "w_2077_45", "w_2077_45-amd64", "d_2077_11_20", "exp_random", "recommended"}, got,
		"pruned tags gone, and latest_old with its image")

	require.NoError(t, Delete(ctx, c, []string{"w_2077_46", "recommended"}, nil), "two tags of one image")
	err = Delete(ctx, c, []string{"w_2077_45", "nope"}, nil)
	var terr *transport.Error
	require.ErrorAs(t, err, &terr, "an unknown Docker tag")
	assert.Equal(t, http.StatusNotFound, terr.StatusCode)
	got, err = List(ctx, c)
	require.NoError(t, err)
	assert.Equal(t, []string{"r24_0_0", "w_2077_45", "w_2077_45-amd64", "d_2077_11_20", "exp_random"}, got,
		"nothing deleted when a tag is unknown")
}

func TestManageDockerBatches(t *testing.T) {
	fixture := map[string]string{"w_2077_46": "sha256:keep"}
	for i := range 60 {
		day := time.Date(2077, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		fixture[day.Format("d_2006_01_02")] = fmt.Sprintf("sha256:%d", i)
	}
	reg, _ := newMemRegistry(t, fixture)
	c := memClient(t, reg)
	var progress progressLog
	got, err := Prune(context.Background(), c, FilterPolicy{Daily: &Filter{CutoffDate: utcDay(2078, 1, 1)}}, PruneOptions{Progress: progress.record})
	require.NoError(t, err)
	assert.Len(t, got, 60)
	assert.Equal(t, [][2]int{{0, 60}, {50, 60}, {60, 60}}, progress.calls)
	left, err := List(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_46"}, left)
}

func TestManageGAR(t *testing.T) {
	ctx := context.Background()
	srv, client, _ := startGAR(t, testGARConfig, garImages(testGARConfig), 2)
	got, err := List(ctx, client)
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_44-amd64", "w_2077_43", "w_2077_42", "w_2077_41", "exp_w_2077_41_testing", "recommended", "latest_weekly"}, got,
		"List: tags of sciplat-lab only, aliases unknown and last")

	policy := FilterPolicy{Weekly: &Filter{CutoffDate: utcDay(2077, 10, 25)}, Experimental: &Filter{Number: 5}}
	got, err = Prune(ctx, client, policy, PruneOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_42", "w_2077_41"}, got)
	assert.Empty(t, srv.Deletes(), "a dry run deletes nothing")

	var progress progressLog
	got, err = Prune(ctx, client, policy, PruneOptions{Progress: progress.record})
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_42", "w_2077_41"}, got)
	require.Len(t, srv.Deletes(), 1)
	parent := testGARConfig.PackageParent()
	assert.Equal(t, []string{parent + "/versions/sha256:ccc", parent + "/versions/sha256:ddd"}, srv.Deletes()[0].GetNames())
	assert.Equal(t, [][2]int{{0, 2}, {2, 2}}, progress.calls)

	require.NoError(t, Delete(ctx, client, []string{"latest_weekly", "nope", "w_2077_43"}, nil), "unknown GAR tags are ignored")
	require.Len(t, srv.Deletes(), 2)
	assert.Equal(t, []string{parent + "/versions/sha256:aaa"}, srv.Deletes()[1].GetNames(), "one version for two of its tags")
	got, err = List(ctx, client)
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2077_44-amd64", "exp_w_2077_41_testing"}, got)
}

func TestManageGARBatches(t *testing.T) {
	var imgs []*artifactregistrypb.DockerImage
	for i := range 120 {
		digest := fmt.Sprintf("sha256:%03d", i)
		day := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		imgs = append(imgs, &artifactregistrypb.DockerImage{
			Uri:  testGARConfig.Registry() + "/" + testGARConfig.Path() + "@" + digest,
			Tags: []string{day.Format("d_2006_01_02")},
		})
	}
	srv, client, _ := startGAR(t, testGARConfig, imgs, 40)
	var progress progressLog
	got, err := Prune(context.Background(), client, FilterPolicy{Daily: &Filter{Number: 1}}, PruneOptions{Progress: progress.record})
	require.NoError(t, err)
	assert.Len(t, got, 119)
	assert.Equal(t, [][2]int{{0, 119}, {50, 119}, {100, 119}, {119, 119}}, progress.calls)
	require.Len(t, srv.Deletes(), 3)
	for i, n := range []int{50, 50, 19} {
		assert.Len(t, srv.Deletes()[i].GetNames(), n, "batch %d", i)
	}
}

// fakeRegistry is a Registry of plain data for the error paths.
type fakeRegistry struct {
	images  []*Image
	listErr error
	failAt  int // DeleteDigests call (from 1) that fails
	calls   int
	digests int
}

var errBoom = errors.New("boom")

func (f *fakeRegistry) ListImages(context.Context) ([]*Image, error) { return f.images, f.listErr }

func (f *fakeRegistry) Digests(_ context.Context, tags []string) (map[string]string, error) {
	f.digests++
	out := make(map[string]string)
	for _, t := range tags {
		out[t] = "sha256:" + t
	}
	return out, nil
}

func (f *fakeRegistry) DeleteDigests(context.Context, []string) error {
	f.calls++
	if f.calls == f.failAt {
		return errBoom
	}
	return nil
}

func TestManageErrors(t *testing.T) {
	ctx := context.Background()
	var many []*Image
	for i := range 120 {
		many = append(many, NewImage(ParseTag(fmt.Sprintf("d_2000_01_01_x%d", i)), "r", "p", ""))
	}
	policy := FilterPolicy{Daily: &Filter{Number: 0, CutoffDate: utcDay(2001, 1, 1)}}

	f := &fakeRegistry{images: many, failAt: 2}
	_, err := Prune(ctx, f, policy, PruneOptions{})
	require.ErrorIs(t, err, errBoom)
	assert.EqualError(t, err, "50 of 120 images deleted: boom")
	assert.Equal(t, 2, f.calls, "no batch after the failure")

	f = &fakeRegistry{listErr: errBoom}
	_, err = Prune(ctx, f, policy, PruneOptions{})
	assert.ErrorIs(t, err, errBoom)
	_, err = List(ctx, f)
	assert.ErrorIs(t, err, errBoom)

	f = &fakeRegistry{images: many}
	_, err = Prune(ctx, f, FilterPolicy{Release: &Filter{CutoffVersion: "27"}}, PruneOptions{})
	assert.Error(t, err, "invalid cutoffVersion")

	got, err := Prune(ctx, f, FilterPolicy{}, PruneOptions{})
	require.NoError(t, err)
	assert.Empty(t, got, "an empty policy keeps everything")
	assert.Zero(t, f.digests+f.calls, "nothing to look up or delete")

	require.NoError(t, Delete(ctx, f, nil, nil), "no tags")
	assert.Zero(t, f.digests+f.calls, "no tags, no calls")
}
