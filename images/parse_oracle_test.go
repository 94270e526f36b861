package images

import (
	"regexp"
	"strings"
	"testing"
)

// The grammar exactly as the spec writes it (Python syntax, which RE2
// accepts with identical submatches); `\n?\z` is Python's `$`. These are
// the oracle for the hand-written matchers of parse.go.
const (
	reRelease   = `r(?P<major>\d+)_(?P<minor>\d+)_(?P<patch>\d+)`
	reCandidate = `r(?P<major>\d+)_(?P<minor>\d+)_(?P<patch>\d+)_(?P<pre>rc\d+)`
	reWeekly    = `w_(?P<year>\d+)_(?P<week>\d+)`
	reDaily     = `d_(?P<year>\d+)_(?P<month>\d+)_(?P<day>\d+)`
	reCycle     = `(?:_c(?P<cycle>\d+)\.(?P<cbuild>\d+))?`
	reBuild     = `(?:_rsp(?P<build>\d+))?`
	reRest      = `(?:_(?P<rest>.+?))?`
	reArch      = `(?:-(?P<arch>[a-z0-9]+))?`
	reEnd       = `\n?\z`
	reSuffixes  = reCycle + reBuild + reRest + reArch + reEnd
)

// oracle pairs each rule's regexp with its hand-written matcher.
var oracle = []struct {
	name string
	re   *regexp.Regexp
	hand func(string) (match, bool)
}{
	{"candidate", regexp.MustCompile(`^` + reCandidate + reSuffixes), matchCandidate},
	{"release", regexp.MustCompile(`^` + reRelease + reSuffixes), matchRelease},
	{"old release", regexp.MustCompile(`^r(?P<major>\d\d)(?P<minor>\d)` + reEnd), matchOldRelease},
	{"weekly", regexp.MustCompile(`^` + reWeekly + reSuffixes), matchWeekly},
	{"daily", regexp.MustCompile(`^` + reDaily + reSuffixes), matchDaily},
	{"experimental", regexp.MustCompile(`^exp_(?P<rest>.+)` + reEnd), matchExperimental},
	{"unknown cycle", regexp.MustCompile(`^(?P<tag>.*?)_c(?P<cycle>\d+)` + reArch + reEnd), matchUnknownCycle},
	{"unknown", regexp.MustCompile(`^(?P<tag>.*?)` + reArch + reEnd), matchUnknown},
}

// regexMatch runs a rule's regexp and fills a match from its named groups.
func regexMatch(re *regexp.Regexp, s string) (match, bool) {
	sub := re.FindStringSubmatch(s)
	if sub == nil {
		return match{}, false
	}
	var m match
	fields := map[string]*string{
		"major": &m.major, "minor": &m.minor, "patch": &m.patch, "pre": &m.pre,
		"year": &m.year, "week": &m.week, "month": &m.month, "day": &m.day,
		"cycle": &m.cycle, "cbuild": &m.cbuild, "build": &m.build,
		"rest": &m.rest, "arch": &m.arch, "tag": &m.tag,
	}
	for i, name := range re.SubexpNames() {
		if p := fields[name]; p != nil {
			*p = sub[i]
		}
	}
	return m, true
}

func checkMatchers(t *testing.T, s string) {
	t.Helper()
	for _, o := range oracle {
		want, wantOK := regexMatch(o.re, s)
		got, gotOK := o.hand(s)
		if wantOK != gotOK || (wantOK && want != got) {
			t.Errorf("%s rule on %q: regexp %v %+v, matcher %v %+v", o.name, s, wantOK, want, gotOK, got)
		}
	}
}

// TestMatchersAgreeWithGrammar compares every hand-written matcher with its
// regexp over tags built from the grammar's pieces and their corruptions.
func TestMatchersAgreeWithGrammar(t *testing.T) {
	heads := []string{"r21_0_1", "r22_0_0_rc1", "r22_0_0_rc", "r170", "r1700", "r17", "w_2021_22", "w_2021",
		"d_2021_05_27", "d_2021_05", "exp_", "exp_x", "latest", "", "_c", "_c12", "r", "w_", "d_"}
	parts := []string{"", "_c0020.001", "_c0020.", "_c.1", "_c20", "_rsp19", "_rsp", "_20210527", "_random",
		"_", "-amd64", "-", "-AMD", "_x-y", "-a-b", "\n", "\n\n", "x", "_c1_c2", ".5", "-amd64\n"}
	short := []string{"", "_c0020.001", "_rsp19", "_random", "-amd64", "\n", "_c20", "-"}
	n := 0
	for _, h := range heads {
		for _, a := range parts {
			for _, b := range parts {
				checkMatchers(t, h+a+b)
				n++
			}
		}
		for _, a := range short {
			for _, b := range short {
				for _, c := range short {
					checkMatchers(t, h+a+b+c)
					n++
				}
			}
		}
	}
	for _, s := range generatedTags() {
		checkMatchers(t, s)
		checkMatchers(t, strings.ToUpper(s))
	}
	t.Logf("compared %d strings", n)
}

// FuzzMatchers compares the matchers with the grammar's regexps.
func FuzzMatchers(f *testing.F) {
	for _, s := range []string{"r21_0_1_c0031.004_rsp103_foo-arm64", "w_2021_22_c0020.001x", "exp_a\n", "a_c1_c2-x", "-\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkMatchers(t, s) })
}
