package images

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collectionTags is a repository with every type, arch-specific variants
// and cycles.
var collectionTags = []string{
	"recommended", "latest_weekly", "r21_0_1", "r20_0_1", "r20_0_1_c0027.001", "r22_0_0_rc1",
	"w_2077_46", "w_2077_46-amd64", "w_2077_45", "w_2077_44", "w_2077_40_c0027.001",
	"d_2077_10_21", "d_2077_10_20", "d_2077_10_19-arm64", "exp_random", "exp_w_2077_46_foo",
	"recommended_c0027", "unknown",
}

func TestTagCollectionOrder(t *testing.T) {
	c := TagCollectionFromNames(collectionTags, map[string]bool{"recommended": true, "absent": true}, nil)
	want := []string{
		"recommended",
		"r21_0_1", "r20_0_1_c0027.001", "r20_0_1",
		"w_2077_46", "w_2077_46-amd64", "w_2077_45", "w_2077_44", "w_2077_40_c0027.001",
		"d_2077_10_21", "d_2077_10_20", "d_2077_10_19-arm64",
		"r22_0_0_rc1",
		"exp_random", "exp_w_2077_46_foo",
		"unknown", "recommended_c0027", "latest_weekly",
	}
	assert.Equal(t, want, c.Names(), "Names()")
	var noArch []string
	for _, tg := range c.AllTags(true) {
		noArch = append(noArch, tg.Tag)
	}
	assert.NotContains(t, noArch, "w_2077_46-amd64")
	assert.NotContains(t, noArch, "d_2077_10_19-arm64")
	assert.Len(t, noArch, len(want)-2)

	latest, ok := c.Latest(TypeDaily)
	require.True(t, ok)
	assert.Equal(t, "d_2077_10_21", latest.Tag)
	_, ok = c.Latest(TypeAlias)
	assert.True(t, ok, "recommended is an alias")
	_, ok = c.Tag("absent")
	assert.False(t, ok, "aliases absent from the names are ignored")
}

func TestTagCollectionSubset(t *testing.T) {
	c := TagCollectionFromNames(collectionTags, nil, nil)
	cases := map[string]struct {
		r, w, d    int
		include    []string
		removeArch bool
		want       []string
	}{
		"KeepArch":   {1, 3, 1, nil, false, []string{"r21_0_1", "w_2077_46", "w_2077_46-amd64", "w_2077_45", "d_2077_10_21"}},
		"RemoveArch": {1, 3, 1, nil, true, []string{"r21_0_1", "w_2077_46", "w_2077_45", "w_2077_44", "d_2077_10_21"}},
		"Include": {0, 1, 0, []string{"recommended", "w_2077_46", "d_2077_10_19-arm64", "nope"}, true,
			[]string{"w_2077_46", "d_2077_10_19-arm64", "recommended"}},
		"None": {0, 0, 0, nil, true, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := c.Subset(tc.r, tc.w, tc.d, tc.include, tc.removeArch)
			assert.Equal(t, tc.want, got.Names(), "Subset")
		})
	}
}

func TestTagCollectionCycle(t *testing.T) {
	c := TagCollectionFromNames(collectionTags, map[string]bool{"recommended_c0027": true}, intp(27))
	assert.Equal(t, []string{"recommended_c0027", "r20_0_1_c0027.001", "w_2077_40_c0027.001"}, c.Names())
	rec, _ := c.Tag("recommended_c0027")
	assert.Equal(t, "Recommended (SAL Cycle 0027)", rec.DisplayName)
}

func TestTagCollectionAddAndDuplicates(t *testing.T) {
	c := TagCollectionFromNames([]string{"w_2077_45", "w_2077_45"}, nil, nil)
	assert.Equal(t, 2, c.Len(), "repeated names stay twice in the type list")
	c.Add(ParseTag("w_2077_47"))
	assert.Equal(t, []string{"w_2077_47", "w_2077_45", "w_2077_45"}, c.Names())
}

// newImage parses a tag (as an alias if asked) into an image of a test
// repository.
func newImage(tag, digest string, alias bool) *Image {
	t := ParseTag(tag)
	if alias {
		t = AliasTag(tag)
	}
	return NewImage(t, "lighthouse.ceres", "library/sketchbook", digest)
}

func TestAliasDisplayNames(t *testing.T) {
	cases := map[string]struct {
		alias, target string
		want          string
	}{
		"Weekly":          {"recommended", "w_2077_43", "Recommended (Weekly 2077_43)"},
		"WeeklyCycle":     {"recommended_c0050", "w_2077_43_c0050.002", "Recommended (Weekly 2077_43, SAL Cycle 0050, Build 002)"},
		"DailyCycle":      {"recommended", "d_2077_10_23_c0045.003", "Recommended (Daily 2077_10_23, SAL Cycle 0045, Build 003)"},
		"ReleaseExtra":    {"latest", "r21_0_2_rsp64_stuff-amd64", "Latest (Release r21.0.2, RSP Build 64 [stuff]) [amd64]"},
		"OwnArchRemoved":  {"latest-amd64", "w_2077_45-amd64", "Latest (Weekly 2077_45) [amd64]"},
		"OtherArchKept":   {"latest_weekly-arm64", "w_2077_45-amd64", "Latest Weekly (Weekly 2077_45 [amd64]) [arm64]"},
		"UnknownResolved": {"latest_weekly", "w_2077_45", "Latest Weekly (Weekly 2077_45)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			for _, declared := range []bool{true, false} {
				c := NewImageCollection([]*Image{newImage(tc.alias, "sha256:1", declared), newImage(tc.target, "sha256:1", false)}, nil)
				a := c.ImageForTag(tc.alias)
				require.NotNil(t, a)
				assert.Equal(t, tc.want, a.DisplayName, "alias %q of %q (declared %v)", tc.alias, tc.target, declared)
				assert.Equal(t, TypeAlias, a.Type)
				assert.Equal(t, tc.target, a.AliasTarget)
				assert.Equal(t, c.ImageForTag(tc.target).Cycle, a.Cycle, "cycle comes from the target")
			}
		})
	}
}

func TestResolveAliasInheritance(t *testing.T) {
	target := newImage("d_2077_10_23_c0045.003-amd64", "sha256:1", false)
	alias := newImage("recommended_c0099", "sha256:1", true)
	require.NoError(t, alias.ResolveAlias(target))
	assert.Equal(t, intp(45), alias.Cycle)
	assert.Equal(t, "amd64", alias.Architecture)
	assert.Equal(t, target.Date, alias.Date)
	assert.Equal(t, []string{"recommended_c0099"}, target.Aliases())

	err := target.ResolveAlias(alias)
	require.ErrorIs(t, err, errNotPossibleAlias, "a weekly cannot be an alias")
}

// aliasSets returns tag → sorted aliases of every image.
func aliasSets(c *ImageCollection) map[string][]string {
	out := make(map[string][]string)
	for _, img := range c.AllImages(ListOptions{KeepArchSpecific: true}) {
		out[img.Tag.Tag] = img.Aliases()
	}
	return out
}

func imageFixture() []*Image {
	return []*Image{
		newImage("recommended", "sha256:5678", true),
		newImage("latest_weekly", "sha256:5678", false),
		newImage("w_2077_43", "sha256:5678", false),
		newImage("w_2077_44-amd64", "sha256:5679", false),
		newImage("latest_daily", "sha256:1234", false),
		newImage("d_2077_10_23", "sha256:1234", false),
		newImage("orphan_a", "sha256:9999", false),
		newImage("orphan_b", "sha256:9999", false),
		newImage("r21_0_1", "sha256:4444", false),
		newImage("w_2077_42", "sha256:4444", false),
	}
}

func TestImageCollectionBuild(t *testing.T) {
	c := NewImageCollection(imageFixture(), nil)
	want := map[string][]string{
		"recommended":     {"latest_weekly", "w_2077_43"},
		"latest_weekly":   {"recommended", "w_2077_43"},
		"w_2077_43":       {"latest_weekly", "recommended"},
		"w_2077_44-amd64": nil,
		"latest_daily":    {"d_2077_10_23"},
		"d_2077_10_23":    {"latest_daily"},
		"orphan_a":        {"orphan_b"},
		"orphan_b":        {"orphan_a"},
		"r21_0_1":         {"w_2077_42"},
		"w_2077_42":       {"r21_0_1"},
	}
	assert.Equal(t, want, aliasSets(c), "alias sets")
	assert.Equal(t, TypeAlias, c.ImageForTag("latest_daily").Type, "unknown promoted to alias")
	assert.Equal(t, "Latest Daily (Daily 2077_10_23)", c.ImageForTag("latest_daily").DisplayName)
	assert.Equal(t, TypeUnknown, c.ImageForTag("orphan_a").Type, "orphans stay unresolved")
	assert.Equal(t, "orphan_a", c.ImageForDigest("sha256:9999").Tag.Tag, "first orphan holds the digest")
	assert.Equal(t, "d_2077_10_23", c.ImageForDigest("sha256:1234").Tag.Tag, "the versioned image wins")
	assert.Equal(t, "r21_0_1", c.ImageForDigest("sha256:4444").Tag.Tag, "first versioned image is primary")
	assert.Equal(t, TypeWeekly, c.ImageForTag("w_2077_42").Type, "duplicates keep their types")
	assert.Nil(t, c.ImageForDigest("sha256:0000"))

	var order []string
	for _, img := range c.AllImages(ListOptions{}) {
		order = append(order, img.Tag.Tag)
	}
	assert.Equal(t, []string{"recommended", "latest_weekly", "latest_daily", "r21_0_1", "w_2077_43", "w_2077_42",
		"d_2077_10_23", "orphan_b", "orphan_a"}, order, "AllImages order")
}

func TestImageCollectionIncremental(t *testing.T) {
	batch := NewImageCollection(imageFixture(), nil)
	inc := NewImageCollection(nil, nil)
	for _, img := range imageFixture() {
		inc.Add(img)
	}
	assert.Equal(t, aliasSets(batch), aliasSets(inc), "batch and one-at-a-time ingestion agree")
	assert.Equal(t, TypeAlias, inc.ImageForTag("latest_daily").Type)
	assert.Equal(t, "d_2077_10_23", inc.ImageForTag("latest_daily").AliasTarget)
}

func TestImageCollectionAddTakesOver(t *testing.T) {
	c := NewImageCollection([]*Image{newImage("recommended", "sha256:1", true), newImage("w_2077_46", "sha256:1", false)}, nil)
	require.Equal(t, "Recommended (Weekly 2077_46)", c.ImageForTag("recommended").DisplayName)
	c.Add(newImage("w_2077_47", "sha256:1", false))
	rec := c.ImageForTag("recommended")
	assert.Equal(t, "Recommended (Weekly 2077_47)", rec.DisplayName)
	assert.Equal(t, "w_2077_47", rec.AliasTarget)
	assert.Equal(t, "w_2077_47", c.ImageForDigest("sha256:1").Tag.Tag, "the added image is primary")
	assert.Equal(t, []string{"recommended", "w_2077_46"}, c.ImageForTag("w_2077_47").Aliases())
	assert.Equal(t, []string{"recommended", "w_2077_47"}, c.ImageForTag("w_2077_46").Aliases())
}

func TestImageCollectionAddResolvesHolders(t *testing.T) {
	c := NewImageCollection([]*Image{
		newImage("recommended", "sha256:1", true), newImage("latest", "sha256:1", false),
		newImage("w_2077_46-amd64", "sha256:2", false),
	}, nil)
	require.Equal(t, TypeUnknown, c.ImageForTag("latest").Type)
	c.Add(newImage("w_2077_46", "sha256:1", false))
	assert.Equal(t, "Recommended (Weekly 2077_46)", c.ImageForTag("recommended").DisplayName)
	assert.Equal(t, "Latest (Weekly 2077_46)", c.ImageForTag("latest").DisplayName)
	assert.NotNil(t, c.ImageForTag("w_2077_46-amd64"), "arch-specific images survive the rebuild")
	assert.Equal(t, 4, c.Len())
}

func TestImageCollectionCycle(t *testing.T) {
	c := NewImageCollection([]*Image{
		newImage("recommended_c0050", "sha256:1", true), newImage("w_2077_43_c0050.002", "sha256:1", false),
		newImage("w_2077_44_c0051.001", "sha256:2", false), newImage("recommended", "sha256:3", true),
	}, intp(50))
	assert.Equal(t, 2, c.Len())
	assert.Equal(t, "Recommended (Weekly 2077_43, SAL Cycle 0050, Build 002)", c.ImageForTag("recommended_c0050").DisplayName)
}

func TestImageCollectionAllImagesFlags(t *testing.T) {
	c := NewImageCollection(imageFixture(), nil)
	list := func(opts ListOptions) []string {
		var out []string
		for _, img := range c.AllImages(opts) {
			out = append(out, img.Tag.Tag)
		}
		return out
	}
	assert.Equal(t, []string{"recommended", "latest_weekly", "latest_daily", "r21_0_1", "w_2077_42", "orphan_b", "orphan_a"},
		list(ListOptions{HideAliased: true}), "HideAliased")
	assert.Equal(t, []string{"r21_0_1", "w_2077_44-amd64", "w_2077_43", "w_2077_42", "d_2077_10_23", "orphan_b", "orphan_a"},
		list(ListOptions{HideResolvedAliases: true, KeepArchSpecific: true}), "HideResolvedAliases")
}

func TestImageCollectionSubsetAndSubtract(t *testing.T) {
	c := NewImageCollection(imageFixture(), nil)
	s := c.Subset(1, 1, 1, []string{"recommended", "nope"}, true)
	var names []string
	for _, img := range s.AllImages(ListOptions{KeepArchSpecific: true}) {
		names = append(names, img.Tag.Tag)
	}
	assert.Equal(t, []string{"recommended", "r21_0_1", "w_2077_43", "d_2077_10_23"}, names)
	assert.Equal(t, "Recommended (Weekly 2077_43)", s.ImageForTag("recommended").DisplayName)
	s.MarkImageSeenOnNode("sha256:5678", "node1", 0)
	assert.False(t, c.ImageForTag("w_2077_43").OnNode("node1"), "subsets are copies")

	node := NewImageCollection([]*Image{newImage("x", "sha256:5678", false), newImage("y-amd64", "sha256:1234", false)}, nil)
	left := c.Subtract(node)
	var got []string
	for _, img := range left.AllImages(ListOptions{KeepArchSpecific: true}) {
		got = append(got, img.Tag.Tag)
	}
	assert.ElementsMatch(t, []string{"r21_0_1", "w_2077_44-amd64", "orphan_a"}, got, "one image per digest not on the node")
}

func TestMarkImageSeenOnNode(t *testing.T) {
	c := NewImageCollection(imageFixture(), nil)
	c.MarkImageSeenOnNode("sha256:5678", "node1", 65537)
	c.MarkImageSeenOnNode("sha256:5678", "node2", 0)
	c.MarkImageSeenOnNode("sha256:0000", "node3", 1)
	for _, tag := range []string{"recommended", "latest_weekly", "w_2077_43"} {
		img := c.ImageForTag(tag)
		assert.Equal(t, []string{"node1", "node2"}, img.Nodes(), "%s nodes", tag)
		assert.Equal(t, int64(65537), img.Size, "%s size (0 does not overwrite)", tag)
	}
	assert.Empty(t, c.ImageForTag("d_2077_10_23").Nodes())
	assert.True(t, c.ImageForTag("w_2077_43").OnAllNodes([]string{"node1", "node2"}))
	assert.False(t, c.ImageForTag("w_2077_43").OnAllNodes([]string{"node1", "node3"}))
	assert.True(t, c.ImageForTag("d_2077_10_23").OnAllNodes(nil), "vacuously prepulled")

	// An alias set naming an image the collection lacks is ignored.
	img := newImage("w_2077_50", "sha256:7", false)
	img.addAlias("gone")
	c2 := NewImageCollection([]*Image{img}, nil)
	c2.MarkImageSeenOnNode("sha256:7", "node1", 0)
	assert.True(t, c2.ImageForTag("w_2077_50").OnNode("node1"))
}

// TestImagesCLIOrder pins `nublado images list` of Nublado's Docker fixture
// (tags re-parsed without alias knowledge) and its weekly prune.
func TestImagesCLIOrder(t *testing.T) {
	names := []string{"recommended", "w_2021_21-amd64", "d_2021_06_14-amd64", "w_2021_22", "w_2021_21",
		"d_2021_06_15", "w_2021_22-amd64", "w_2021_21-arm64"}
	c := TagCollectionFromNames(names, nil, nil)
	assert.Equal(t, []string{"w_2021_22", "w_2021_22-amd64", "w_2021_21", "w_2021_21-arm64", "w_2021_21-amd64",
		"d_2021_06_15", "d_2021_06_14-amd64", "recommended"}, c.Names())
	cutoff := time.Date(2021, 5, 31, 0, 0, 0, 0, time.UTC)
	pruned, err := c.Filter(FilterPolicy{Weekly: &Filter{CutoffDate: &cutoff}}, time.Now(),
		FilterOptions{Invert: true, KeepArchSpecific: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"w_2021_21", "w_2021_21-arm64", "w_2021_21-amd64"}, tagNames(pruned))
}

func TestImageJSON(t *testing.T) {
	c := NewImageCollection([]*Image{newImage("recommended", "sha256:1", true), newImage("w_2077_46", "sha256:1", false)}, nil)
	c.MarkImageSeenOnNode("sha256:1", "node1", 42)
	raw, err := json.Marshal(c.ImageForTag("recommended"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"tag":"recommended","image_type":"Alias","display_name":"Recommended (Weekly 2077_46)",
		"version":null,"semantic":false,"base":"recommended","cycle":null,"cycle_build":null,"build":null,
		"architecture":null,"extra":null,"date":"2077-11-18 00:00:00",
		"registry":"lighthouse.ceres","repository":"library/sketchbook","digest":"sha256:1","size":42,
		"aliases":["w_2077_46"],"alias_target":"w_2077_46","nodes":["node1"]}`, string(raw))
}
