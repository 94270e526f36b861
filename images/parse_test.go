package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gotest.tools/v3/golden"
)

// TestParseTagGolden pins the to_dict serialisation of a spread of tags.
func TestParseTagGolden(t *testing.T) {
	tags := []string{
		"r23_1_4", "r22_0_0_rc12", "r170", "w_2024_05", "d_2023_12_31",
		"exp_w_2021_22_c0020.001_rsp19_foo-amd64", "exp_r28_0_1_exp", "exp_random",
		"latest_c0027-amd64", "recommended", "MiXeD_CaSe_TaG", "", "my-tag", "-amd64",
		"w_2021_99", "d_2021_13_45", "w_2020_53", "w_2021_53", "r21_0_1_c0031.004_rsp103_foo-arm64",
	}
	parsed := make([]Tag, len(tags))
	for i, s := range tags {
		parsed[i] = ParseTag(s)
	}
	got, err := json.MarshalIndent(parsed, "", "  ")
	require.NoError(t, err)
	golden.Assert(t, string(got)+"\n", "parse.json")
}

func intp(n int) *int       { return &n }
func strp(s string) *string { return &s }
func date(y, m, d int) *time.Time {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return &t
}

// TestParseTagVariants checks every combination of the optional parts of a
// versioned tag, with and without the experimental prefix.
func TestParseTagVariants(t *testing.T) {
	bases := []struct {
		tag     string
		typ     ImageType
		display string
		version Version
		date    *time.Time
	}{
		{"r21_0_1", TypeRelease, "Release r21.0.1", Version{Major: 21, Patch: 1}, nil},
		{"r22_0_0_rc1", TypeCandidate, "Release Candidate r22.0.0-rc1", Version{Major: 22, Prerelease: "rc1"}, nil},
		{"w_2021_22", TypeWeekly, "Weekly 2021_22", Version{Major: 2021, Minor: 22}, date(2021, 6, 3)},
		{"d_2021_05_27", TypeDaily, "Daily 2021_05_27", Version{Major: 2021, Minor: 5, Patch: 27}, date(2021, 5, 27)},
	}
	for _, exp := range []string{"", "exp_"} {
		for _, b := range bases {
			for _, cycle := range []string{"", "_c0020.001"} {
				for _, build := range []string{"", "_rsp19"} {
					for _, extra := range []string{"", "_20210527", "_random"} {
						for _, arch := range []string{"", "-amd64"} {
							tag := exp + b.tag + cycle + build + extra + arch
							want := Tag{
								Tag: tag, Type: b.typ, DisplayName: b.display, Semantic: b.typ == TypeRelease || b.typ == TypeCandidate,
								Date: b.date,
							}
							v := b.version
							want.Version = &v
							if cycle != "" {
								want.Cycle, want.CycleBuild = intp(20), intp(1)
								want.DisplayName += " (SAL Cycle 0020, Build 001)"
							}
							if build != "" {
								want.Build = intp(19)
								want.DisplayName += " (RSP Build 19)"
							}
							if extra != "" {
								want.Extra = extra[1:]
								want.DisplayName += " [" + extra[1:] + "]"
							}
							if arch != "" {
								want.Architecture = "amd64"
								want.DisplayName += " [amd64]"
							}
							if exp != "" {
								want.Type = TypeExperimental
								want.DisplayName = "Experimental " + want.DisplayName
							}
							assert.Equal(t, want, ParseTag(tag), "ParseTag(%q)", tag)
						}
					}
				}
			}
		}
	}
}

func TestParseTagSpecialCases(t *testing.T) {
	cases := map[string]struct {
		tag  string
		want Tag
	}{
		"MixedCase": {"MiXeD_CaSe_TaG", Tag{Tag: "MiXeD_CaSe_TaG", Type: TypeUnknown, DisplayName: "MiXeD_CaSe_TaG", Base: strp("MiXeD_CaSe_TaG")}},
		"Empty":     {"", Tag{Tag: "latest", Type: TypeUnknown, DisplayName: "latest", Base: strp("latest")}},
		"ObsoleteRelease": {"r170", Tag{Tag: "r170", Type: TypeRelease, DisplayName: "Release r17.0.0", Semantic: true,
			Version: &Version{Major: 17}}},
		"UnknownWithCycleAndArch": {"latest_c0027-amd64", Tag{Tag: "latest_c0027-amd64", Type: TypeUnknown,
			DisplayName: "latest (SAL Cycle 0027) [amd64]", Base: strp("latest"), Cycle: intp(27), Architecture: "amd64"}},
		"ImpossibleWeek":    {"w_2021_99", Tag{Tag: "w_2021_99", Type: TypeUnknown, DisplayName: "w_2021_99", Base: strp("w_2021_99")}},
		"ImpossibleDate":    {"d_2021_13_45", Tag{Tag: "d_2021_13_45", Type: TypeUnknown, DisplayName: "d_2021_13_45", Base: strp("d_2021_13_45")}},
		"Week53OfShortYear": {"w_2021_53", Tag{Tag: "w_2021_53", Type: TypeUnknown, DisplayName: "w_2021_53", Base: strp("w_2021_53")}},
		"Week53OfLongYear": {"w_2020_53", Tag{Tag: "w_2020_53", Type: TypeWeekly, DisplayName: "Weekly 2020_53",
			Version: &Version{Major: 2020, Minor: 53}, Date: date(2020, 12, 31)}},
		"Week0":        {"w_2021_0", Tag{Tag: "w_2021_0", Type: TypeUnknown, DisplayName: "w_2021_0", Base: strp("w_2021_0")}},
		"HyphenIsArch": {"my-tag", Tag{Tag: "my-tag", Type: TypeUnknown, DisplayName: "my [tag]", Base: strp("my"), Architecture: "tag"}},
		"EmptyBase":    {"-amd64", Tag{Tag: "-amd64", Type: TypeUnknown, DisplayName: " [amd64]", Base: strp(""), Architecture: "amd64"}},
		"ExperimentalUnknown": {"exp_random", Tag{Tag: "exp_random", Type: TypeExperimental, DisplayName: "Experimental random",
			Base: strp("random")}},
		"ExperimentalOnRelease": {"exp_r28_0_1_exp", Tag{Tag: "exp_r28_0_1_exp", Type: TypeExperimental,
			DisplayName: "Experimental Release r28.0.1 [exp]", Semantic: true, Version: &Version{Major: 28, Patch: 1}, Extra: "exp"}},
		"Overflow": {"r99999999999999999999_0_1", Tag{Tag: "r99999999999999999999_0_1", Type: TypeUnknown,
			DisplayName: "r99999999999999999999_0_1", Base: strp("r99999999999999999999_0_1")}},
		"TrailingNewline": {"r21_0_1\n", Tag{Tag: "r21_0_1\n", Type: TypeRelease, DisplayName: "Release r21.0.1", Semantic: true,
			Version: &Version{Major: 21, Patch: 1}}},
		"InnerNewline": {"a\nb", Tag{Tag: "a\nb", Type: TypeUnknown, DisplayName: "a\nb", Base: strp("a\nb")}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, ParseTag(tc.tag), "ParseTag(%q)", tc.tag)
		})
	}
}

func TestWeeklyDates(t *testing.T) {
	cases := map[string]string{
		"w_2021_22": "2021-06-03", "w_2077_43": "2077-10-28", "w_2025_07": "2025-02-13",
		"w_2021_01": "2021-01-07", "w_2020_01": "2020-01-02", "w_2026_01": "2026-01-01", "w_0001_01": "0001-01-04",
	}
	for tag, want := range cases {
		got := ParseTag(tag)
		require.NotNil(t, got.Date, "ParseTag(%q).Date", tag)
		assert.Equal(t, want, got.Date.Format("2006-01-02"), "ParseTag(%q).Date", tag)
	}
}

func TestAliasTag(t *testing.T) {
	cases := map[string]struct {
		display string
		base    string
		cycle   *int
		arch    string
	}{
		"recommended":         {"Recommended", "recommended", nil, ""},
		"latest_weekly_c0046": {"Latest Weekly (SAL Cycle 0046)", "latest_weekly", intp(46), ""},
		"latest-amd64":        {"Latest [amd64]", "latest", nil, "amd64"},
		"latest_c0046-arm64":  {"Latest (SAL Cycle 0046) [arm64]", "latest", intp(46), "arm64"},
		"recommended_c0050":   {"Recommended (SAL Cycle 0050)", "recommended", intp(50), ""},
		"MiXeD_cAsE":          {"Mixed Case", "MiXeD_cAsE", nil, ""},
	}
	for tag, tc := range cases {
		got := AliasTag(tag)
		want := Tag{Tag: tag, Type: TypeAlias, DisplayName: tc.display, Base: strp(tc.base), Cycle: tc.cycle, Architecture: tc.arch}
		assert.Equal(t, want, got, "AliasTag(%q)", tag)
	}
}

func TestTitleCase(t *testing.T) {
	cases := map[string]string{
		"recommended": "Recommended", "latest weekly": "Latest Weekly", "MiXeD": "Mixed",
		"a1b2c": "A1B2C", "they're": "They'Re", "x_y-z": "X_Y-Z", "": "",
	}
	for in, want := range cases {
		assert.Equal(t, want, titleCase(in), "titleCase(%q)", in)
	}
}

// chains are ascending orders pinned by Nublado's tests.
var chains = [][]string{
	{"r21_0_1", "r21_0_1_rsp29", "r21_0_1_rsp103", "r21_0_1_rsp103_extra", "r21_0_1_rsp103_foo-amd64",
		"r21_0_1_rsp103_foo-arm64", "r21_0_1_rsp103_foo", "r21_0_1_c0031.004", "r21_0_1_c0031.004_rsp103",
		"r21_0_1_c0032.004_rsp102", "r21_0_1_c0032.004_rsp103", "r21_0_1_c0032.005_rsp101"},
	{"d_2023_02_09", "d_2023_02_10_c0030.004", "d_2023_02_10_c0031.004", "d_2023_02_10_c0031.005"},
	{"exp_20230209", "exp_random"},
	{"r22_0_0_rc10", "r22_0_0_rc2", "r22_0_1_rc1"},
	{"w_2021_22", "w_2021_23", "w_2022_01"},
	{"latest", "recommended", "recommended_c0027"},
}

func TestOrderingChains(t *testing.T) {
	for _, chain := range chains {
		for i := range chain {
			for j := range chain {
				a, b := ParseTag(chain[i]), ParseTag(chain[j])
				c, err := Compare(&a, &b)
				require.NoError(t, err, "Compare(%q, %q)", a.Tag, b.Tag)
				want := 0
				if i < j {
					want = -1
				} else if i > j {
					want = 1
				}
				assert.Equal(t, want, c, "Compare(%q, %q)", a.Tag, b.Tag)
			}
		}
	}
}

func TestCompareAcrossTypes(t *testing.T) {
	a, b := ParseTag("r21_0_1"), ParseTag("d_2023_02_09")
	_, err := Compare(&a, &b)
	var tm *TypeMismatchError
	require.ErrorAs(t, err, &tm, "Compare(r21_0_1, d_2023_02_09)")
	assert.Equal(t, TypeRelease, tm.TA)
	assert.False(t, Less(&a, &b), "Less across types")
	assert.False(t, Less(&b, &a), "Less across types")
}

// TestOrderingIsStrictWeakOrder checks, over generated tags of each type,
// that Less is irreflexive and transitive and that incomparability
// (Compare == 0) is transitive, and that Compare is antisymmetric.
func TestOrderingIsStrictWeakOrder(t *testing.T) {
	tags := generatedTags()
	byType := make(map[ImageType][]Tag)
	for _, s := range tags {
		tg := ParseTag(s)
		byType[tg.Type] = append(byType[tg.Type], tg)
	}
	require.GreaterOrEqual(t, len(byType), 5, "generated tags cover the types")
	for typ, list := range byType {
		n := len(list)
		cmpm := make([][]int, n)
		for i := range list {
			cmpm[i] = make([]int, n)
			for j := range list {
				c, err := Compare(&list[i], &list[j])
				require.NoError(t, err)
				cmpm[i][j] = c
			}
		}
		for i := 0; i < n; i++ {
			require.Equal(t, 0, cmpm[i][i], "%s: Compare(%q, itself)", typ, list[i].Tag)
			for j := 0; j < n; j++ {
				require.Equal(t, -cmpm[j][i], cmpm[i][j], "%s: antisymmetry of %q, %q", typ, list[i].Tag, list[j].Tag)
				for k := 0; k < n; k++ {
					if cmpm[i][j] < 0 && cmpm[j][k] < 0 {
						require.Negative(t, cmpm[i][k], "%s: transitivity %q < %q < %q", typ, list[i].Tag, list[j].Tag, list[k].Tag)
					}
					if cmpm[i][j] == 0 && cmpm[j][k] == 0 {
						require.Zero(t, cmpm[i][k], "%s: equivalence %q ~ %q ~ %q", typ, list[i].Tag, list[j].Tag, list[k].Tag)
					}
				}
			}
		}
	}
}

// generatedTags combines tag parts deterministically (a pseudo-random
// sample of the cross product, with a fixed seed).
func generatedTags() []string {
	heads := []string{"r21_0_1", "r21_0_10", "r021_0_1", "r22_0_0_rc1", "r22_0_0_rc10", "r22_0_0_rc2", "r170",
		"w_2021_22", "w_2021_022", "w_2020_53", "d_2021_05_27", "d_2021_5_27", "latest", "recommended", "",
		"exp_w_2021_22", "exp_random", "exp_r21_0_1"}
	cycles := []string{"", "_c0020.001", "_c20.1", "_c0021.001", "_c0020.002"}
	builds := []string{"", "_rsp19", "_rsp019", "_rsp2"}
	extras := []string{"", "_a", "_b", "_20210527"}
	archs := []string{"", "-amd64", "-arm64"}
	seed := uint32(12345)
	next := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>16) % n
	}
	seen := make(map[string]bool)
	var out []string
	for len(out) < 160 {
		h := heads[next(len(heads))]
		var s string
		if strings.HasPrefix(h, "r") || strings.HasPrefix(h, "w_") || strings.HasPrefix(h, "d_") || strings.HasPrefix(h, "exp_") {
			s = h + cycles[next(len(cycles))] + builds[next(len(builds))] + extras[next(len(extras))] + archs[next(len(archs))]
		} else {
			s = h + []string{"", "_c0027", "_c27", "_c0028"}[next(4)] + archs[next(len(archs))]
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func TestVersionCompare(t *testing.T) {
	asc := []string{"1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0-rc1", "1.0.0-rc10", "1.0.0-rc2", "1.0.0", "1.0.1", "1.1.0", "2.0.0"}
	for i := range asc {
		for j := range asc {
			a, err := ParseVersion(asc[i])
			require.NoError(t, err)
			b, err := ParseVersion(asc[j])
			require.NoError(t, err)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			assert.Equal(t, want, a.Compare(b), "%s vs %s", asc[i], asc[j])
		}
	}
	for _, bad := range []string{"1.0", "01.0.0", "1.0.0-", "v1.0.0", "1.0.0-01", ""} {
		_, err := ParseVersion(bad)
		assert.Error(t, err, "ParseVersion(%q)", bad)
	}
	v, err := ParseVersion("1.2.3-rc.1+build.5")
	require.NoError(t, err)
	assert.Equal(t, "1.2.3-rc.1+build.5", v.String())
}

// FuzzParseTag checks that parsing never panics, keeps the tag string, and
// yields a tag comparable with itself.
func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"r21_0_1", "w_2021_22_c0020.001_rsp19_foo-amd64", "exp_exp_d_2021_05_27", "", "-", "_c1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tag := ParseTag(s)
		want := s
		if s == "" {
			want = "latest"
		}
		if tag.Tag != want {
			t.Fatalf("ParseTag(%q).Tag = %q", s, tag.Tag)
		}
		if c, err := Compare(&tag, &tag); err != nil || c != 0 {
			t.Fatalf("Compare(%q, itself) = %d, %v", s, c, err)
		}
		if _, err := json.Marshal(tag); err != nil {
			t.Fatalf("marshalling %q: %v", s, err)
		}
		checkTagFields(t, s, tag)
		if again := ParseTag(tag.Tag); !reflect.DeepEqual(again, tag) {
			t.Fatalf("ParseTag(%q) = %+v, but ParseTag of its Tag = %+v", s, tag, again)
		}
		alias := AliasTag(s)
		if alias.Tag != s || alias.Type != TypeAlias || alias.Base == nil {
			t.Fatalf("AliasTag(%q) = %+v", s, alias)
		}
	})
}

// checkTagFields checks that a parsed tag's fields fit its type: a known
// type, a version (and display name) for the versioned types, a date for
// weeklies and dailies, a base for unknown tags, and numbers in range.
func checkTagFields(t *testing.T, s string, tag Tag) {
	t.Helper()
	fail := func(what string) { t.Fatalf("ParseTag(%q) = %+v: %s", s, tag, what) }
	switch tag.Type {
	case TypeRelease, TypeCandidate, TypeWeekly, TypeDaily:
		if tag.Version == nil {
			fail("versioned type without a version")
		}
	case TypeExperimental:
	case TypeUnknown:
		if tag.Base == nil {
			fail("unknown tag without a base")
		}
	default:
		fail("type out of range")
	}
	if (tag.Type == TypeWeekly || tag.Type == TypeDaily) && tag.Date == nil {
		fail("weekly or daily without a date")
	}
	if tag.Semantic && tag.Version == nil {
		fail("semantic without a version")
	}
	if tag.Version != nil && tag.DisplayName == "" {
		fail("versioned tag without a display name")
	}
	for _, p := range []*int{tag.Cycle, tag.CycleBuild, tag.Build} {
		if p != nil && *p < 0 {
			fail("negative number")
		}
	}
}

// FuzzCompareTags: Compare is antisymmetric, fails exactly for tags of
// different types with a *TypeMismatchError, and agrees with Less.
func FuzzCompareTags(f *testing.F) {
	f.Add("r21_0_1", "r21_0_1_rc1")
	f.Add("w_2021_22", "w_2021_22-amd64")
	f.Add("foo", "foo-amd64")
	f.Add("exp_r28_0_1_exp", "exp_random")
	f.Fuzz(func(t *testing.T, a, b string) {
		ta, tb := ParseTag(a), ParseTag(b)
		ab, errAB := Compare(&ta, &tb)
		ba, errBA := Compare(&tb, &ta)
		if ta.Type != tb.Type {
			var mismatch *TypeMismatchError
			if !errors.As(errAB, &mismatch) || !errors.As(errBA, &mismatch) || Less(&ta, &tb) || Less(&tb, &ta) {
				t.Fatalf("Compare(%q, %q) of types %v and %v: %v, %v", a, b, ta.Type, tb.Type, errAB, errBA)
			}
			return
		}
		if errAB != nil || errBA != nil {
			t.Fatalf("Compare(%q, %q): %v, %v", a, b, errAB, errBA)
		}
		if ab != -ba || ab < -1 || ab > 1 {
			t.Fatalf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if Less(&ta, &tb) != (ab < 0) {
			t.Fatalf("Less(%q, %q) disagrees with Compare = %d", a, b, ab)
		}
	})
}

func ExampleParseTag() {
	t := ParseTag("w_2021_22_c0020.001_rsp19-amd64")
	fmt.Println(t.Type, "|", t.DisplayName, "|", t.Date.Format("2006-01-02"), "|", strconv.Itoa(*t.Cycle))
	// Output: Weekly | Weekly 2021_22 (SAL Cycle 0020, Build 001) (RSP Build 19) [amd64] | 2021-06-03 | 20
}
