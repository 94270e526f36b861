package images

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Regular-expression building blocks of the RSP tag grammar (spec §5.1).
// Every rule is anchored at the start and ends with `\n?\z`, which is what
// Python's re.match with a trailing `$` accepts.
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

func anchored(s string) *regexp.Regexp { return regexp.MustCompile(`^` + s) }

var (
	ruleCandidate    = anchored(reCandidate + reSuffixes)
	ruleRelease      = anchored(reRelease + reSuffixes)
	ruleOldRelease   = anchored(`r(?P<major>\d\d)(?P<minor>\d)` + reEnd)
	ruleWeekly       = anchored(reWeekly + reSuffixes)
	ruleDaily        = anchored(reDaily + reSuffixes)
	ruleExperimental = anchored(`exp_(?P<rest>.+)` + reEnd)
	ruleUnknownCycle = anchored(`(?P<tag>.*?)_c(?P<cycle>\d+)` + reArch + reEnd)
	ruleUnknown      = anchored(`(?P<tag>.*?)` + reArch + reEnd)
)

// rule is one line of the grammar: a literal prefix that every match starts
// with (a cheap pre-check, equivalent to trying the regexp), the regexp, and
// the builder of the tag from its groups.
type rule struct {
	prefix string
	re     *regexp.Regexp
	build  func(tag string, g groups) (Tag, error)
}

// rules are tried in this order; the first match whose builder succeeds wins.
// It is filled in init because the experimental rule parses recursively.
var rules []rule

func init() {
	rules = []rule{
		{"r", ruleCandidate, buildCandidate},
		{"r", ruleRelease, buildRelease},
		{"r", ruleOldRelease, buildOldRelease},
		{"w_", ruleWeekly, buildWeekly},
		{"d_", ruleDaily, buildDaily},
		{"exp_", ruleExperimental, buildExperimental},
		{"", ruleUnknownCycle, buildUnknownCycle},
		{"", ruleUnknown, buildUnknown},
	}
}

// errImpossible marks a match that names something impossible (week 99,
// month 13, a number too large for an int); parsing goes on with the next
// rule.
var errImpossible = errors.New("impossible tag value")

// ParseTag parses an RSP image tag. It never fails: a tag that matches none
// of the versioned forms is of type Unknown. The empty tag means "latest".
// The result's Tag field is always the input (or "latest").
func ParseTag(tag string) Tag {
	if tag == "" {
		tag = "latest"
	}
	for _, r := range rules {
		if !strings.HasPrefix(tag, r.prefix) {
			continue
		}
		m := r.re.FindStringSubmatchIndex(tag)
		if m == nil {
			continue
		}
		if t, err := r.build(tag, groups{r.re, tag, m}); err == nil {
			return t
		}
	}
	// Only a tag with a newline before its end gets here.
	return Tag{Tag: tag, Type: TypeUnknown, DisplayName: tag, Base: &tag}
}

// AliasTag builds the tag of a declared alias (the recommended tag and
// aliasTags): type Alias, display name title-cased from the base with "_"
// as spaces, plus the SAL cycle and architecture. For example
// "latest_weekly_c0046" is "Latest Weekly (SAL Cycle 0046)" with cycle 46.
func AliasTag(tag string) Tag {
	t := Tag{Tag: tag, Type: TypeAlias}
	if m := ruleUnknownCycle.FindStringSubmatchIndex(tag); m != nil {
		g := groups{ruleUnknownCycle, tag, m}
		if cycle, err := g.int("cycle"); err == nil {
			base, _ := g.get("tag")
			t.Base, t.Cycle = &base, cycle
			t.DisplayName = titleCase(strings.ReplaceAll(base, "_", " ")) + cycleSuffix(g)
			t.Architecture, _ = g.get("arch")
			t.DisplayName += archSuffix(t.Architecture)
			return t
		}
	}
	base := tag
	if m := ruleUnknown.FindStringSubmatchIndex(tag); m != nil {
		g := groups{ruleUnknown, tag, m}
		base, _ = g.get("tag")
		t.Architecture, _ = g.get("arch")
	}
	t.Base = &base
	t.DisplayName = titleCase(strings.ReplaceAll(base, "_", " ")) + archSuffix(t.Architecture)
	return t
}

// groups gives access to the named groups of one match.
type groups struct {
	re  *regexp.Regexp
	s   string
	idx []int
}

// get returns the text of group name and whether the group took part.
func (g groups) get(name string) (string, bool) {
	i := g.re.SubexpIndex(name)
	if i < 0 || g.idx[2*i] < 0 {
		return "", false
	}
	return g.s[g.idx[2*i]:g.idx[2*i+1]], true
}

// int returns group name as an int, nil when the group did not take part.
func (g groups) int(name string) (*int, error) {
	s, ok := g.get(name)
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q", errImpossible, name, s)
	}
	return &n, nil
}

// ints returns the named groups, all of which must have taken part.
func (g groups) ints(names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, name := range names {
		p, err := g.int(name)
		if err != nil {
			return nil, err
		}
		if p == nil {
			return nil, fmt.Errorf("%w: missing %s", errImpossible, name)
		}
		out[i] = *p
	}
	return out, nil
}

func buildCandidate(tag string, g groups) (Tag, error) {
	n, err := g.ints("major", "minor", "patch")
	if err != nil {
		return Tag{}, err
	}
	pre, _ := g.get("pre")
	t := Tag{
		Tag: tag, Type: TypeCandidate, Semantic: true,
		Version:     &Version{Major: n[0], Minor: n[1], Patch: n[2], Prerelease: pre},
		DisplayName: fmt.Sprintf("Release Candidate r%d.%d.%d-%s", n[0], n[1], n[2], pre),
	}
	return withSuffixes(t, g)
}

func buildRelease(tag string, g groups) (Tag, error) {
	n, err := g.ints("major", "minor", "patch")
	if err != nil {
		return Tag{}, err
	}
	t := Tag{
		Tag: tag, Type: TypeRelease, Semantic: true,
		Version:     &Version{Major: n[0], Minor: n[1], Patch: n[2]},
		DisplayName: fmt.Sprintf("Release r%d.%d.%d", n[0], n[1], n[2]),
	}
	return withSuffixes(t, g)
}

func buildOldRelease(tag string, g groups) (Tag, error) {
	n, err := g.ints("major", "minor")
	if err != nil {
		return Tag{}, err
	}
	return Tag{
		Tag: tag, Type: TypeRelease, Semantic: true,
		Version:     &Version{Major: n[0], Minor: n[1]},
		DisplayName: fmt.Sprintf("Release r%d.%d.0", n[0], n[1]),
	}, nil
}

func buildWeekly(tag string, g groups) (Tag, error) {
	n, err := g.ints("year", "week")
	if err != nil {
		return Tag{}, err
	}
	date, err := isoThursday(n[0], n[1])
	if err != nil {
		return Tag{}, err
	}
	year, _ := g.get("year")
	week, _ := g.get("week")
	t := Tag{
		Tag: tag, Type: TypeWeekly, Date: &date,
		Version:     &Version{Major: n[0], Minor: n[1]},
		DisplayName: fmt.Sprintf("Weekly %s_%s", year, week),
	}
	return withSuffixes(t, g)
}

func buildDaily(tag string, g groups) (Tag, error) {
	n, err := g.ints("year", "month", "day")
	if err != nil {
		return Tag{}, err
	}
	date, err := calendarDate(n[0], n[1], n[2])
	if err != nil {
		return Tag{}, err
	}
	year, _ := g.get("year")
	month, _ := g.get("month")
	day, _ := g.get("day")
	t := Tag{
		Tag: tag, Type: TypeDaily, Date: &date,
		Version:     &Version{Major: n[0], Minor: n[1], Patch: n[2]},
		DisplayName: fmt.Sprintf("Daily %s_%s_%s", year, month, day),
	}
	return withSuffixes(t, g)
}

func buildExperimental(tag string, g groups) (Tag, error) {
	rest, _ := g.get("rest")
	t := ParseTag(rest)
	t.Tag = tag
	t.Type = TypeExperimental
	t.DisplayName = "Experimental " + t.DisplayName
	return t, nil
}

func buildUnknownCycle(tag string, g groups) (Tag, error) {
	cycle, err := g.int("cycle")
	if err != nil {
		return Tag{}, err
	}
	base, _ := g.get("tag")
	arch, _ := g.get("arch")
	return Tag{
		Tag: tag, Type: TypeUnknown, Base: &base, Cycle: cycle, Architecture: arch,
		DisplayName: base + cycleSuffix(g) + archSuffix(arch),
	}, nil
}

func buildUnknown(tag string, g groups) (Tag, error) {
	base, _ := g.get("tag")
	arch, _ := g.get("arch")
	return Tag{
		Tag: tag, Type: TypeUnknown, Base: &base, Architecture: arch,
		DisplayName: base + archSuffix(arch),
	}, nil
}

// withSuffixes fills the cycle, build, extra and architecture fields of a
// versioned tag and appends their decorations to its display name, in that
// order, with the raw digit strings of the tag.
func withSuffixes(t Tag, g groups) (Tag, error) {
	var err error
	if t.Cycle, err = g.int("cycle"); err != nil {
		return Tag{}, err
	}
	if t.CycleBuild, err = g.int("cbuild"); err != nil {
		return Tag{}, err
	}
	if t.Build, err = g.int("build"); err != nil {
		return Tag{}, err
	}
	t.DisplayName += cycleSuffix(g)
	if b, ok := g.get("build"); ok {
		t.DisplayName += " (RSP Build " + b + ")"
	}
	if rest, ok := g.get("rest"); ok {
		t.Extra = rest
		t.DisplayName += " [" + rest + "]"
	}
	t.Architecture, _ = g.get("arch")
	t.DisplayName += archSuffix(t.Architecture)
	return t, nil
}

// cycleSuffix is " (SAL Cycle {c}, Build {b})" or " (SAL Cycle {c})" with the
// raw digit strings, or "" without a cycle.
func cycleSuffix(g groups) string {
	c, ok := g.get("cycle")
	if !ok {
		return ""
	}
	if b, ok := g.get("cbuild"); ok {
		return " (SAL Cycle " + c + ", Build " + b + ")"
	}
	return " (SAL Cycle " + c + ")"
}

func archSuffix(arch string) string {
	if arch == "" {
		return ""
	}
	return " [" + arch + "]"
}

// isoThursday returns the Thursday of an ISO week at midnight UTC, failing
// where Python's date.fromisocalendar does: years outside 1–9999, week 0,
// and week 53 of a year that has only 52.
func isoThursday(year, week int) (time.Time, error) {
	if year < 1 || year > 9999 {
		return time.Time{}, fmt.Errorf("%w: year %d", errImpossible, year)
	}
	if week < 1 || week > 53 || week == 53 && !hasWeek53(year) {
		return time.Time{}, fmt.Errorf("%w: week %d of %d", errImpossible, week, year)
	}
	jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
	return monday.AddDate(0, 0, (week-1)*7+3), nil
}

// hasWeek53 reports whether an ISO year has 53 weeks: it starts on a
// Thursday, or it is a leap year starting on a Wednesday.
func hasWeek53(year int) bool {
	jan1 := time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC).Weekday()
	leap := time.Date(year, time.December, 31, 0, 0, 0, 0, time.UTC).YearDay() == 366
	return jan1 == time.Thursday || (jan1 == time.Wednesday && leap)
}

// calendarDate returns a date at midnight UTC, failing for dates that do not
// exist or lie outside years 1–9999.
func calendarDate(year, month, day int) (time.Time, error) {
	if year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, fmt.Errorf("%w: date %d-%d-%d", errImpossible, year, month, day)
	}
	d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if d.Day() != day {
		return time.Time{}, fmt.Errorf("%w: date %d-%d-%d", errImpossible, year, month, day)
	}
	return d, nil
}
