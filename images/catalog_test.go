package images

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

var testDocker = DockerConfig{Registry: "registry.example.org", Repository: "lab/sciplat"}

// testRegistry is the content of the test Docker repository: tag → digest.
var testRegistry = map[string]string{
	"recommended":     "sha256:aaa",
	"latest_weekly":   "sha256:aaa",
	"w_2077_46":       "sha256:aaa",
	"w_2077_46-amd64": "sha256:ddd",
	"w_2077_45":       "sha256:bbb",
	"w_2077_44":       "sha256:ccc",
	"d_2077_11_20":    "sha256:eee",
	"d_2077_11_19":    "sha256:fff",
	"r24_0_0":         "sha256:ggg",
	"r23_0_0":         "sha256:iii",
	"exp_random":      "sha256:hhh",
	"unknown":         "sha256:jjj",
}

func testSettings() Settings {
	s := DefaultSettings()
	s.NumWeeklies, s.NumDailies = 2, 1
	s.Pin = []string{"r23_0_0", "absent"}
	s.AliasTags = []string{"latest_weekly"}
	return s
}

// testNodes: node1 and node2 are eligible, node3 has a taint the labs do
// not tolerate.
func testNodes() []Node {
	img := func(size int64, digest string, names ...string) ContainerImage {
		return ContainerImage{Names: append(names, "registry.example.org/lab/sciplat@"+digest), SizeBytes: size}
	}
	return []Node{
		{Name: "node1", Images: []ContainerImage{img(100, "sha256:aaa", "registry.example.org/lab/sciplat:recommended"),
			img(200, "sha256:bbb"), img(300, "sha256:eee"), {Names: nil, SizeBytes: 1}}},
		{Name: "node2", Images: []ContainerImage{img(100, "sha256:aaa"), img(200, "sha256:bbb")}},
		{Name: "node3", Taints: []Taint{{Key: "gpu", Effect: EffectNoSchedule}, {Key: "soft", Effect: EffectPreferNoSchedule}},
			Images: []ContainerImage{img(100, "sha256:aaa"), img(500, "sha256:ggg")}},
	}
}

func nodeStates(nodes []Node, tolerations []Toleration) []NodeState {
	var out []NodeState
	for _, n := range nodes {
		out = append(out, NewNodeState(n, tolerations))
	}
	return out
}

// dockerCatalog builds the catalog as the Docker source does: all tags,
// digests looked up for the prepull set only.
func dockerCatalog(t *testing.T, cfg DockerConfig, s Settings, registry map[string]string) (*Catalog, []string) {
	t.Helper()
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	tags := TagCollectionFromNames(names, s.Aliases(), s.Cycle)
	digests := make(map[string]string)
	var looked []string
	for _, n := range PrepullTags(tags, s).Names() {
		digests[n] = registry[n]
		looked = append(looked, n)
	}
	return NewDockerCatalog(cfg, s, tags, digests), looked
}

func TestDockerCatalog(t *testing.T) {
	c, looked := dockerCatalog(t, testDocker, testSettings(), testRegistry)
	assert.Equal(t, []string{"recommended", "r24_0_0", "r23_0_0", "w_2077_46", "w_2077_45", "d_2077_11_20"}, looked,
		"only the prepull set is looked up")
	c.SetNodes(nodeStates(testNodes(), nil))
	assert.Equal(t, []string{"node1", "node2"}, c.EligibleNodes())

	assert.Equal(t, []MenuEntry{
		{"registry.example.org/lab/sciplat:recommended@sha256:aaa", "Recommended (Weekly 2077_46)"},
		{"registry.example.org/lab/sciplat:w_2077_45@sha256:bbb", "Weekly 2077_45"},
	}, c.Menu(), "Menu")

	dropdown, err := c.Dropdown(FilterPolicy{Weekly: &Filter{Number: 2}}, time.Now())
	require.NoError(t, err)
	assert.Equal(t, []MenuEntry{
		{"registry.example.org/lab/sciplat:recommended@sha256:aaa", "Recommended (Weekly 2077_46)"},
		{"registry.example.org/lab/sciplat:latest_weekly", "Latest Weekly"},
		{"registry.example.org/lab/sciplat:r24_0_0@sha256:ggg", "Release r24.0.0"},
		{"registry.example.org/lab/sciplat:r23_0_0@sha256:iii", "Release r23.0.0"},
		{"registry.example.org/lab/sciplat:w_2077_46@sha256:aaa", "Weekly 2077_46"},
		{"registry.example.org/lab/sciplat:w_2077_45@sha256:bbb", "Weekly 2077_45"},
		{"registry.example.org/lab/sciplat:d_2077_11_20@sha256:eee", "Daily 2077_11_20"},
		{"registry.example.org/lab/sciplat:d_2077_11_19", "Daily 2077_11_19"},
		{"registry.example.org/lab/sciplat:exp_random", "Experimental random"},
		{"registry.example.org/lab/sciplat:unknown", "unknown"},
	}, dropdown, "Dropdown")

	assertGoldenJSON(t, c.SpawnerImages(), "docker-images.json")
	cfg := PrepullerConfig{Source: testDocker, RefreshInterval: 5 * time.Minute, PrepullTimeout: 10 * time.Minute, Settings: testSettings()}
	assertGoldenJSON(t, c.PrepullerStatus(cfg), "docker-prepulls.json")

	var missing []string
	for _, img := range c.Missing("node2") {
		missing = append(missing, img.Tag.Tag)
	}
	assert.Equal(t, []string{"r24_0_0", "r23_0_0", "d_2077_11_20"}, missing, "Missing(node2)")
	c.MarkImageSeenOnNode("sha256:eee", "node2")
	assert.Len(t, c.Missing("node2"), 2, "a prepulled image is no longer missing")
	assert.Len(t, c.PrepullImages(), 5, "one image per digest")
}

func assertGoldenJSON(t *testing.T, v any, name string) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, string(got)+"\n", name)
}

// testGAR is the content of the test GAR image (already filtered to it).
func testGAR() []*Image {
	cfg := GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"}
	var out []*Image
	add := func(digest string, size int64, tags ...string) {
		for _, tag := range tags {
			img := NewImage(ParseTag(tag), cfg.Registry(), cfg.Path(), digest)
			img.Size = size
			out = append(out, img)
		}
	}
	add("sha256:aaa", 1000, "w_2077_43", "recommended", "latest_weekly")
	add("sha256:bbb", 1001, "w_2077_44-amd64")
	add("sha256:ccc", 1002, "w_2077_42")
	add("sha256:ddd", 1003, "w_2077_41")
	add("sha256:eee", 1004, "exp_w_2077_41_testing")
	return out
}

func TestGARCatalog(t *testing.T) {
	cfg := GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"}
	c := NewGARCatalog(cfg, DefaultSettings(), testGAR())
	c.SetNodes(nodeStates([]Node{
		{Name: "node1", Images: []ContainerImage{{Names: []string{"us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab@sha256:aaa"}, SizeBytes: 1}}},
		{Name: "node2"},
	}, nil))
	assert.Equal(t, []MenuEntry{
		{"us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab:recommended@sha256:aaa", "Recommended (Weekly 2077_43)"},
	}, c.Menu(), "Menu")
	cutoff := time.Date(2077, 10, 25, 0, 0, 0, 0, time.UTC)
	dropdown, err := c.Dropdown(FilterPolicy{Weekly: &Filter{CutoffDate: &cutoff}}, time.Now())
	require.NoError(t, err)
	var names []string
	for _, e := range dropdown {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{"Recommended (Weekly 2077_43)", "Latest Weekly (Weekly 2077_43)", "Weekly 2077_43",
		"Experimental Weekly 2077_41 [testing]"}, names, "Dropdown")
	assertGoldenJSON(t, c.SpawnerImages(), "gar-images.json")
	pcfg := PrepullerConfig{Source: cfg, RefreshInterval: time.Minute, PrepullTimeout: time.Minute, Settings: DefaultSettings()}
	assertGoldenJSON(t, c.PrepullerStatus(pcfg), "gar-prepulls.json")
	var missing []string
	for _, img := range c.Missing("node2") {
		missing = append(missing, img.Tag.Tag)
	}
	assert.Equal(t, []string{"w_2077_43", "w_2077_42"}, missing, "Missing(node2): the weekly, not its aliases")
}

// digester is a fake registry lookup.
type digester func(tag string) (string, error)

func (d digester) Digest(_ context.Context, tag string) (string, error) { return d(tag) }

func TestResolve(t *testing.T) {
	c, _ := dockerCatalog(t, testDocker, testSettings(), testRegistry)
	var lookups []string
	lookup := digester(func(tag string) (string, error) {
		lookups = append(lookups, tag)
		if d, ok := testRegistry[tag]; ok {
			return d, nil
		}
		return "", errors.New("manifest unknown")
	})
	ref := "registry.example.org/lab/sciplat"
	cases := map[string]struct {
		req     ImageRequest
		want    string // ReferenceWithDigest
		lookups []string
		errType string // unknown_image, invalid_docker_reference
		msg     string
	}{
		"DigestWins":       {ImageRequest{AttrImageList, ref + ":latest_weekly@sha256:aaa"}, ref + ":w_2077_46@sha256:aaa", nil, "", ""},
		"DigestOnly":       {ImageRequest{AttrImageDropdown, ref + "@sha256:eee"}, ref + ":d_2077_11_20@sha256:eee", nil, "", ""},
		"ResolvedTag":      {ImageRequest{AttrImageList, ref + ":recommended"}, ref + ":recommended@sha256:aaa", nil, "", ""},
		"UnverifiedDigest": {ImageRequest{AttrImageDropdown, ref + ":w_2077_44@sha256:given"}, ref + ":w_2077_44@sha256:given", nil, "", ""},
		"LookedUp":         {ImageRequest{AttrImageDropdown, ref + ":w_2077_44"}, ref + ":w_2077_44@sha256:ccc", []string{"w_2077_44"}, "", ""},
		"NoTag":            {ImageRequest{AttrImageList, ref}, "", nil, "invalid_docker_reference", `Docker reference "` + ref + `" has no tag`},
		"UnknownDigestNoTag": {ImageRequest{AttrImageDropdown, ref + "@sha256:nope"}, "", nil, "invalid_docker_reference",
			`Docker reference "` + ref + `@sha256:nope" has no tag`},
		"Unparsable":       {ImageRequest{AttrImageList, "sketchbook:latest"}, "", nil, "invalid_docker_reference", `Docker reference "sketchbook:latest" is invalid`},
		"OtherRegistry":    {ImageRequest{AttrImageList, "docker.io/lab/sciplat:w_2077_46"}, "", nil, "unknown_image", `Docker reference "docker.io/lab/sciplat:w_2077_46" not found`},
		"OtherRepo":        {ImageRequest{AttrImageList, "registry.example.org/lab/other:w_2077_46"}, "", nil, "unknown_image", `Docker reference "registry.example.org/lab/other:w_2077_46" not found`},
		"TagNotInRegistry": {ImageRequest{AttrImageList, ref + ":nope"}, "", nil, "unknown_image", `Docker reference "` + ref + `:nope" not found`},
		"Tag":              {ImageRequest{AttrImageTag, "w_2077_45"}, ref + ":w_2077_45@sha256:bbb", nil, "", ""},
		"TagLookedUp":      {ImageRequest{AttrImageTag, "exp_random"}, ref + ":exp_random@sha256:hhh", []string{"exp_random"}, "", ""},
		"TagUnknown":       {ImageRequest{AttrImageTag, "unknown_tag"}, "", nil, "unknown_image", `Docker tag "unknown_tag" not found`},
		"Recommended":      {ImageRequest{AttrImageClass, ClassRecommended}, ref + ":recommended@sha256:aaa", nil, "", ""},
		"LatestWeekly":     {ImageRequest{AttrImageClass, ClassLatestWeekly}, ref + ":w_2077_46@sha256:aaa", nil, "", ""},
		"LatestDaily":      {ImageRequest{AttrImageClass, ClassLatestDaily}, ref + ":d_2077_11_20@sha256:eee", nil, "", ""},
		"LatestRelease":    {ImageRequest{AttrImageClass, ClassLatestRelease}, ref + ":r24_0_0@sha256:ggg", nil, "", ""},
		"UnknownClass":     {ImageRequest{AttrImageClass, "oldest"}, "", nil, "unknown_image", `Unknown image class "oldest"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			lookups = nil
			img, err := c.Resolve(context.Background(), tc.req, lookup)
			assert.Equal(t, tc.lookups, lookups, "registry lookups")
			if tc.errType == "" {
				require.NoError(t, err, "Resolve(%+v)", tc.req)
				assert.Equal(t, tc.want, img.ReferenceWithDigest())
				return
			}
			require.Error(t, err, "Resolve(%+v)", tc.req)
			assert.Equal(t, tc.msg, err.Error())
			var ue *UnknownImageError
			var ie *InvalidReferenceError
			switch {
			case errors.As(err, &ue):
				assert.Equal(t, tc.errType, ue.Type())
				assert.Equal(t, tc.req.Attribute, ue.Attribute)
			case errors.As(err, &ie):
				assert.Equal(t, tc.errType, ie.Type())
				assert.Equal(t, tc.req.Attribute, ie.Attribute)
			default:
				t.Fatalf("Resolve(%+v): untyped error %v", tc.req, err)
			}
		})
	}
	t.Run("LookupFails", func(t *testing.T) {
		c, _ := dockerCatalog(t, testDocker, testSettings(), testRegistry)
		failing := digester(func(string) (string, error) { return "", errors.New("status 500") })
		_, err := c.Resolve(context.Background(), ImageRequest{AttrImageTag, "exp_random"}, failing)
		require.Error(t, err)
		var ue *UnknownImageError
		assert.False(t, errors.As(err, &ue), "a registry failure is not an unknown image")
	})
	t.Run("EmptyPrepullSet", func(t *testing.T) {
		c, _ := dockerCatalog(t, testDocker, testSettings(), map[string]string{"exp_random": "sha256:1"})
		for class, msg := range map[string]string{
			ClassRecommended: "No recommended image found", ClassLatestWeekly: "No latest-weekly image found",
			ClassLatestDaily: "No latest-daily image found", ClassLatestRelease: "No latest-release image found",
		} {
			_, err := c.Resolve(context.Background(), ImageRequest{AttrImageClass, class}, lookup)
			var ue *UnknownImageError
			require.ErrorAs(t, err, &ue, class)
			assert.Equal(t, msg, ue.Message)
		}
	})
}

func TestResolveGAR(t *testing.T) {
	cfg := GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"}
	c := NewGARCatalog(cfg, DefaultSettings(), testGAR())
	never := digester(func(tag string) (string, error) { t.Fatalf("GAR resolution looked up %q", tag); return "", nil })
	ref := "us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab"
	img, err := c.Resolve(context.Background(), ImageRequest{AttrImageList, ref + ":latest_weekly@sha256:aaa"}, never)
	require.NoError(t, err)
	assert.Equal(t, ref+":w_2077_43@sha256:aaa", img.ReferenceWithDigest())
	img, err = c.Resolve(context.Background(), ImageRequest{AttrImageTag, "w_2077_41"}, never)
	require.NoError(t, err)
	assert.Equal(t, int64(1003), img.Size)
	_, err = c.Resolve(context.Background(), ImageRequest{AttrImageTag, "w_2077_40"}, never)
	var ue *UnknownImageError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `Docker tag "w_2077_40" not found`, ue.Message)
	_, err = c.Resolve(context.Background(), ImageRequest{AttrImageList, ref + ":w_2077_40"}, never)
	require.ErrorAs(t, err, &ue)
	_, err = c.Resolve(context.Background(), ImageRequest{AttrImageList, ref}, never)
	var ie *InvalidReferenceError
	require.ErrorAs(t, err, &ie)
}
