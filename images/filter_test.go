package images

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filterTags is a repository in the shape of Nublado's filter_test.py: for
// every rule of the policy below there are tags it keeps and tags it drops.
var filterTags = []string{
	"recommended", "recommended-amd64", "unknown",
	"r29_2_1_rsp2742", "r29_2_0_rsp2500", "r28_0_1", "r28_0_1-amd64", "r28_0_0", "r27_0_0", "r26_0_0",
	"w_2025_07", "w_2025_07-arm64", "w_2025_06", "w_2025_05", "w_2025_04-amd64",
	"d_2025_02_19", "d_2025_02_18", "d_2025_02_17", "d_2025_02_10-amd64",
	"r28_0_0_rc2-amd64", "r28_0_0_rc1", "r25_0_0_rc1",
	"exp_w_2025_07", "exp_w_2025_05", "exp_d_2025_02_01",
}

var filterBasis = time.Date(2025, 2, 19, 17, 0, 0, 0, time.UTC)

func filterPolicy() FilterPolicy {
	cutoff := time.Date(2025, 2, 7, 0, 0, 0, 0, time.UTC)
	return FilterPolicy{
		Release:          &Filter{CutoffBuild: 2600, CutoffVersion: "27.0.0"},
		Weekly:           &Filter{Age: 14 * 24 * time.Hour},
		Daily:            &Filter{Age: 2 * 24 * time.Hour, Number: 4},
		ReleaseCandidate: &Filter{CutoffVersion: "25.3.1", Number: 1},
		Experimental:     &Filter{CutoffDate: &cutoff},
	}
}

func tagNames(tags []Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, t.Tag)
	}
	return out
}

func TestFilterPolicy(t *testing.T) {
	c := TagCollectionFromNames(filterTags, map[string]bool{"recommended": true, "recommended-amd64": true}, nil)
	cases := map[string]struct {
		opts FilterOptions
		want []string
	}{
		"Kept": {FilterOptions{}, []string{
			"recommended", "r29_2_1_rsp2742", "r28_0_1", "r28_0_0", "r27_0_0", "w_2025_07", "w_2025_06",
			"d_2025_02_19", "d_2025_02_18", "r28_0_0_rc1", "exp_w_2025_07", "unknown"}},
		"Inverted": {FilterOptions{Invert: true}, []string{
			"r29_2_0_rsp2500", "r26_0_0", "w_2025_05", "d_2025_02_17", "r25_0_0_rc1", "exp_w_2025_05", "exp_d_2025_02_01"}},
		"KeptWithArch": {FilterOptions{KeepArchSpecific: true}, []string{
			"recommended", "recommended-amd64", "r29_2_1_rsp2742", "r28_0_1", "r28_0_1-amd64", "r28_0_0", "r27_0_0",
			"w_2025_07", "w_2025_07-arm64", "w_2025_06", "d_2025_02_19", "d_2025_02_18", "r28_0_0_rc2-amd64",
			"exp_w_2025_07", "unknown"}},
		"InvertedWithArch": {FilterOptions{Invert: true, KeepArchSpecific: true}, []string{
			"r29_2_0_rsp2500", "r26_0_0", "w_2025_05", "w_2025_04-amd64", "d_2025_02_17", "d_2025_02_10-amd64",
			"r28_0_0_rc1", "r25_0_0_rc1", "exp_w_2025_05", "exp_d_2025_02_01"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.Filter(filterPolicy(), filterBasis, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.want, tagNames(got), "Filter(%+v)", tc.opts)
		})
	}
	kept, _ := c.Filter(filterPolicy(), filterBasis, FilterOptions{})
	dropped, _ := c.Filter(filterPolicy(), filterBasis, FilterOptions{Invert: true})
	assert.ElementsMatch(t, tagNames(c.AllTags(true)), append(tagNames(kept), tagNames(dropped)...), "kept ∪ inverted = all non-arch tags")
	kept, _ = c.Filter(filterPolicy(), filterBasis, FilterOptions{KeepArchSpecific: true})
	dropped, _ = c.Filter(filterPolicy(), filterBasis, FilterOptions{KeepArchSpecific: true, Invert: true})
	assert.ElementsMatch(t, c.Names(), append(tagNames(kept), tagNames(dropped)...), "kept ∪ inverted = all tags")
}

func TestFilterSemver(t *testing.T) {
	c := TagCollectionFromNames([]string{
		"r28_0_1", "r28_0_0", "r27_0_0", "w_2025_07", "w_2025_06", "r28_0_2_rc1", "r28_0_0_rc1",
		"exp_w_2025_07", "exp_r28_0_1_exp", "exp_r28_0_0_exp",
	}, nil, nil)
	f := &Filter{CutoffVersion: "28.0.1"}
	got, err := c.Filter(FilterPolicy{Release: f, ReleaseCandidate: f, Weekly: f, Experimental: f}, filterBasis, FilterOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"r28_0_1", "w_2025_07", "w_2025_06", "r28_0_2_rc1", "exp_w_2025_07", "exp_r28_0_1_exp"}, tagNames(got))
}

func TestFilterZeroMeansUnlimited(t *testing.T) {
	c := TagCollectionFromNames([]string{"r21_0_1_rsp5", "r21_0_0_rsp0", "r20_0_0", "r19_0_0"}, nil, nil)
	got, err := c.Filter(FilterPolicy{Release: &Filter{Number: 0, CutoffBuild: 0}}, filterBasis, FilterOptions{})
	require.NoError(t, err)
	assert.Len(t, got, 4, "number 0 and cutoffBuild 0 keep everything")
	got, err = c.Filter(FilterPolicy{Release: &Filter{CutoffBuild: 3}}, filterBasis, FilterOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"r21_0_1_rsp5", "r21_0_0_rsp0", "r20_0_0", "r19_0_0"}, tagNames(got),
		"tags without (or with a zero) build ignore cutoffBuild")
	got, err = c.Filter(FilterPolicy{Release: &Filter{CutoffBuild: 6}}, filterBasis, FilterOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"r21_0_0_rsp0", "r20_0_0", "r19_0_0"}, tagNames(got))
}

func TestFilterDateCutoff(t *testing.T) {
	early := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	late := time.Date(2025, 2, 18, 0, 0, 0, 0, time.UTC)
	week := 7 * 24 * time.Hour
	cases := map[string]struct {
		f    Filter
		want *time.Time
	}{
		"None":           {Filter{}, nil},
		"Age":            {Filter{Age: week}, ptr(filterBasis.Add(-week))},
		"Date":           {Filter{CutoffDate: &early}, &early},
		"AgeIsStricter":  {Filter{Age: week, CutoffDate: &early}, ptr(filterBasis.Add(-week))},
		"DateIsStricter": {Filter{Age: week, CutoffDate: &late}, &late},
	}
	for name, tc := range cases {
		assert.Equal(t, tc.want, tc.f.DateCutoff(filterBasis), name)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFilterPolicyValidate(t *testing.T) {
	require.NoError(t, filterPolicy().Validate())
	bad := FilterPolicy{Weekly: &Filter{CutoffVersion: "27"}}
	require.Error(t, bad.Validate())
	c := TagCollectionFromNames([]string{"w_2025_07"}, nil, nil)
	_, err := c.Filter(bad, filterBasis, FilterOptions{})
	require.Error(t, err, "Filter with an invalid cutoffVersion")
	assert.Nil(t, FilterPolicy{}.For(TypeAlias))
	assert.Nil(t, FilterPolicy{}.For(TypeUnknown))
	assert.Equal(t, &Filter{}, FilterPolicy{}.For(TypeDaily))
}
