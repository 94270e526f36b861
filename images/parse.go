package images

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The RSP tag grammar (spec §5.1) is a list of regular expressions tried in
// order, each anchored at the start and ending with Python's `$` (which
// also accepts one trailing newline):
//
//	1. candidate    r(\d+)_(\d+)_(\d+)_(rc\d+) SUFFIX
//	2. release      r(\d+)_(\d+)_(\d+) SUFFIX
//	3. old release  r(\d\d)(\d)$
//	4. weekly       w_(\d+)_(\d+) SUFFIX
//	5. daily        d_(\d+)_(\d+)_(\d+) SUFFIX
//	6. experimental exp_(.+)$
//	7. unknown      (.*?)_c(\d+) ARCH $
//	8. unknown      (.*?) ARCH $
//
// with SUFFIX = (?:_c(\d+)\.(\d+))?(?:_rsp(\d+))?(?:_(.+?))? ARCH $ and
// ARCH = (?:-([a-z0-9]+))?. The matchers below implement exactly what a
// backtracking engine does with these expressions (the tests check them
// against the expressions themselves); they are several times faster.

// match holds the groups of one match. Every optional group is non-empty
// when present, so "" means absent; tag (the unknown base) may be empty.
type match struct {
	major, minor, patch, pre string
	year, week, month, day   string
	cycle, cbuild, build     string
	rest, arch, tag          string
}

// numRules is the number of lines of the grammar; matchRule and buildRule
// dispatch on the line number with direct calls (function values would
// make every match escape to the heap).
const numRules = 8

// matchRule runs the matcher of rule i.
func matchRule(i int, s string) (match, bool) {
	switch i {
	case 0:
		return matchCandidate(s)
	case 1:
		return matchRelease(s)
	case 2:
		return matchOldRelease(s)
	case 3:
		return matchWeekly(s)
	case 4:
		return matchDaily(s)
	case 5:
		return matchExperimental(s)
	case 6:
		return matchUnknownCycle(s)
	}
	return matchUnknown(s)
}

// buildRule builds the tag of a match of rule i; it fails for impossible
// values (week 99, month 13, numbers too large for an int).
func buildRule(i int, tag string, m *match) (Tag, error) {
	switch i {
	case 0:
		return buildVersioned(tag, TypeCandidate, m)
	case 1:
		return buildVersioned(tag, TypeRelease, m)
	case 2:
		return buildOldRelease(tag, m)
	case 3:
		return buildVersioned(tag, TypeWeekly, m)
	case 4:
		return buildVersioned(tag, TypeDaily, m)
	case 5:
		return buildExperimental(tag, m), nil
	}
	return buildUnknown(tag, m)
}

// errImpossible marks a match that names something impossible (week 99,
// month 13, a number too large for an int); parsing goes on with the next
// rule.
var errImpossible = errors.New("impossible tag value")

// ParseTag parses an RSP image tag. It never fails: a tag that matches none
// of the versioned forms is of type Unknown. The empty tag means "latest".
// The result's Tag field is always the input (or "latest"). Digits are
// ASCII digits (Python's \d also accepts other Unicode digits, which Docker
// tags cannot contain), and numbers too large for an int make a form fail
// to match (Python's ints are unbounded).
func ParseTag(tag string) Tag {
	if tag == "" {
		tag = "latest"
	}
	for i := range numRules {
		m, ok := matchRule(i, tag)
		if !ok {
			continue
		}
		if t, err := buildRule(i, tag, &m); err == nil {
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
	if m, ok := matchUnknownCycle(tag); ok {
		if cycle, err := atoi(m.cycle); err == nil {
			base := m.tag
			t.Base, t.Cycle, t.Architecture = &base, &cycle, m.arch
			title := []byte(titleCase(strings.ReplaceAll(base, "_", " ")))
			t.DisplayName = string(appendArch(appendCycle(title, &m), m.arch))
			return t
		}
	}
	base := tag
	if m, ok := matchUnknown(tag); ok {
		base, t.Architecture = m.tag, m.arch
	}
	t.Base = &base
	t.DisplayName = titleCase(strings.ReplaceAll(base, "_", " ")) + archSuffix(t.Architecture)
	return t
}

// digits returns the length of the run of ASCII digits at the start of s.
func digits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// number consumes `\d+` then the literal sep (if any) from s. A digit run
// is always taken whole: a shorter one leaves a digit that nothing after it
// in the grammar can match.
func number(s, sep string) (num, rest string, ok bool) {
	n := digits(s)
	if n == 0 || !strings.HasPrefix(s[n:], sep) {
		return "", "", false
	}
	return s[:n], s[n+len(sep):], true
}

// matchEnd matches `(?:-([a-z0-9]+))?\n?\z` and returns the architecture.
func matchEnd(s string) (arch string, ok bool) {
	if s == "" || s == "\n" {
		return "", true
	}
	if s[0] != '-' {
		return "", false
	}
	body := strings.TrimSuffix(s[1:], "\n")
	if body == "" {
		return "", false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return "", false
		}
	}
	return body, true
}

// matchSuffix matches SUFFIX, trying the alternatives in the order of a
// backtracking engine: each optional group first taken (the rest as short
// as possible), then skipped.
func matchSuffix(s string, m *match) bool {
	type part struct{ a, b, rest string }
	cycles := []part{{rest: s}}
	if after, ok := strings.CutPrefix(s, "_c"); ok {
		if c, r, ok := number(after, "."); ok {
			if b, r2, ok := number(r, ""); ok {
				cycles = []part{{c, b, r2}, {rest: s}}
			}
		}
	}
	for _, c := range cycles {
		builds := []part{{rest: c.rest}}
		if after, ok := strings.CutPrefix(c.rest, "_rsp"); ok {
			if b, r, ok := number(after, ""); ok {
				builds = []part{{a: b, rest: r}, {rest: c.rest}}
			}
		}
		for _, b := range builds {
			if rest, arch, ok := matchRestEnd(b.rest); ok {
				m.cycle, m.cbuild, m.build, m.rest, m.arch = c.a, c.b, b.a, rest, arch
				return true
			}
		}
	}
	return false
}

// matchRestEnd matches `(?:_(.+?))?` ARCH `\n?\z`.
func matchRestEnd(s string) (rest, arch string, ok bool) {
	if body, has := strings.CutPrefix(s, "_"); has {
		for n := 1; n <= len(body) && body[n-1] != '\n'; n++ {
			if arch, ok := matchEnd(body[n:]); ok {
				return body[:n], arch, true
			}
		}
	}
	arch, ok = matchEnd(s)
	return "", arch, ok
}

func matchCandidate(s string) (match, bool) {
	var m match
	r, ok := strings.CutPrefix(s, "r")
	if !ok {
		return m, false
	}
	if m.major, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.minor, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.patch, r, ok = number(r, "_rc"); !ok {
		return m, false
	}
	n, r, ok := number(r, "")
	if !ok {
		return m, false
	}
	m.pre = "rc" + n
	return m, matchSuffix(r, &m)
}

func matchRelease(s string) (match, bool) {
	var m match
	r, ok := strings.CutPrefix(s, "r")
	if !ok {
		return m, false
	}
	if m.major, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.minor, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.patch, r, ok = number(r, ""); !ok {
		return m, false
	}
	return m, matchSuffix(r, &m)
}

func matchOldRelease(s string) (match, bool) {
	var m match
	r, ok := strings.CutPrefix(s, "r")
	if !ok || digits(r) != 3 || (len(r) != 3 && r[3:] != "\n") {
		return m, false
	}
	m.major, m.minor = r[:2], r[2:3]
	return m, true
}

func matchWeekly(s string) (match, bool) {
	var m match
	r, ok := strings.CutPrefix(s, "w_")
	if !ok {
		return m, false
	}
	if m.year, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.week, r, ok = number(r, ""); !ok {
		return m, false
	}
	return m, matchSuffix(r, &m)
}

func matchDaily(s string) (match, bool) {
	var m match
	r, ok := strings.CutPrefix(s, "d_")
	if !ok {
		return m, false
	}
	if m.year, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.month, r, ok = number(r, "_"); !ok {
		return m, false
	}
	if m.day, r, ok = number(r, ""); !ok {
		return m, false
	}
	return m, matchSuffix(r, &m)
}

// matchExperimental matches `exp_(.+)\n?\z`: the greedy `.+` takes every
// character up to a newline, which may only be the last one.
func matchExperimental(s string) (match, bool) {
	var m match
	body, ok := strings.CutPrefix(s, "exp_")
	if !ok {
		return m, false
	}
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		if i != len(body)-1 {
			return m, false
		}
		body = body[:i]
	}
	m.rest = body
	return m, body != ""
}

// matchUnknownCycle matches `(.*?)_c(\d+)` ARCH `\n?\z` with the shortest
// tag (which cannot contain a newline).
func matchUnknownCycle(s string) (match, bool) {
	var m match
	for p := 0; p < len(s); p++ {
		if p > 0 && s[p-1] == '\n' {
			break
		}
		after, ok := strings.CutPrefix(s[p:], "_c")
		if !ok {
			continue
		}
		if c, r, ok := number(after, ""); ok {
			if arch, ok := matchEnd(r); ok {
				m.tag, m.cycle, m.arch = s[:p], c, arch
				return m, true
			}
		}
	}
	return m, false
}

// matchUnknown matches `(.*?)` ARCH `\n?\z` with the shortest tag.
func matchUnknown(s string) (match, bool) {
	var m match
	for p := 0; p <= len(s); p++ {
		if p > 0 && s[p-1] == '\n' {
			break
		}
		if arch, ok := matchEnd(s[p:]); ok {
			m.tag, m.arch = s[:p], arch
			return m, true
		}
	}
	return m, false
}

// atoi converts a digit run, failing (errImpossible) when it overflows.
func atoi(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", errImpossible, s)
	}
	return n, nil
}

// storage holds the values a Tag points to, so that a tag costs one
// allocation for all of them.
type storage struct {
	version                  Version
	date                     time.Time
	cycle, cycleBuild, build int
	base                     string
}

// setOpt converts an optional digit run into *dst, leaving *p nil when the
// run is absent.
func setOpt(p **int, dst *int, s string) error {
	if s == "" {
		return nil
	}
	n, err := atoi(s)
	if err != nil {
		return err
	}
	*dst, *p = n, dst
	return nil
}

// buildVersioned builds a release, candidate, weekly or daily tag.
func buildVersioned(tag string, typ ImageType, m *match) (Tag, error) {
	st := new(storage)
	t := Tag{Tag: tag, Type: typ, Version: &st.version}
	v := &st.version
	var err error
	var head []byte
	buf := make([]byte, 0, 64+len(tag))
	switch typ {
	case TypeCandidate, TypeRelease:
		if v.Major, err = atoi(m.major); err != nil {
			return Tag{}, err
		}
		if v.Minor, err = atoi(m.minor); err != nil {
			return Tag{}, err
		}
		if v.Patch, err = atoi(m.patch); err != nil {
			return Tag{}, err
		}
		t.Semantic = true
		if typ == TypeCandidate {
			v.Prerelease = m.pre
			head = append(buf, "Release Candidate "...)
		} else {
			head = append(buf, "Release "...)
		}
		head = appendRelease(head, v.Major, v.Minor, v.Patch)
		if typ == TypeCandidate {
			head = append(append(head, '-'), m.pre...)
		}
	case TypeWeekly:
		if v.Major, err = atoi(m.year); err != nil {
			return Tag{}, err
		}
		if v.Minor, err = atoi(m.week); err != nil {
			return Tag{}, err
		}
		if st.date, err = isoThursday(v.Major, v.Minor); err != nil {
			return Tag{}, err
		}
		t.Date = &st.date
		head = append(append(append(append(buf, "Weekly "...), m.year...), '_'), m.week...)
	case TypeDaily:
		if v.Major, err = atoi(m.year); err != nil {
			return Tag{}, err
		}
		if v.Minor, err = atoi(m.month); err != nil {
			return Tag{}, err
		}
		if v.Patch, err = atoi(m.day); err != nil {
			return Tag{}, err
		}
		if st.date, err = calendarDate(v.Major, v.Minor, v.Patch); err != nil {
			return Tag{}, err
		}
		t.Date = &st.date
		head = append(append(append(append(append(append(buf, "Daily "...), m.year...), '_'), m.month...), '_'), m.day...)
	}
	if err := setOpt(&t.Cycle, &st.cycle, m.cycle); err != nil {
		return Tag{}, err
	}
	if err := setOpt(&t.CycleBuild, &st.cycleBuild, m.cbuild); err != nil {
		return Tag{}, err
	}
	if err := setOpt(&t.Build, &st.build, m.build); err != nil {
		return Tag{}, err
	}
	head = appendCycle(head, m)
	if m.build != "" {
		head = append(append(append(head, " (RSP Build "...), m.build...), ')')
	}
	if m.rest != "" {
		head = append(append(append(head, " ["...), m.rest...), ']')
	}
	t.Extra, t.Architecture = m.rest, m.arch
	t.DisplayName = string(appendArch(head, m.arch))
	return t, nil
}

// appendRelease appends "r{M}.{m}.{p}".
func appendRelease(b []byte, major, minor, patch int) []byte {
	b = strconv.AppendInt(append(b, 'r'), int64(major), 10)
	b = strconv.AppendInt(append(b, '.'), int64(minor), 10)
	return strconv.AppendInt(append(b, '.'), int64(patch), 10)
}

func buildOldRelease(tag string, m *match) (Tag, error) {
	st := new(storage)
	var err error
	if st.version.Major, err = atoi(m.major); err != nil {
		return Tag{}, err
	}
	if st.version.Minor, err = atoi(m.minor); err != nil {
		return Tag{}, err
	}
	name := appendRelease([]byte("Release "), st.version.Major, st.version.Minor, 0)
	return Tag{Tag: tag, Type: TypeRelease, Semantic: true, Version: &st.version, DisplayName: string(name)}, nil
}

// buildExperimental parses the rest as a tag and relabels it.
func buildExperimental(tag string, m *match) Tag {
	t := ParseTag(m.rest)
	t.Tag = tag
	t.Type = TypeExperimental
	t.DisplayName = "Experimental " + t.DisplayName
	return t
}

// buildUnknown builds an Unknown tag, with a SAL cycle when m has one.
func buildUnknown(tag string, m *match) (Tag, error) {
	st := new(storage)
	t := Tag{Tag: tag, Type: TypeUnknown, Architecture: m.arch}
	if err := setOpt(&t.Cycle, &st.cycle, m.cycle); err != nil {
		return Tag{}, err
	}
	st.base = m.tag
	t.Base = &st.base
	b := append(make([]byte, 0, len(tag)+32), m.tag...)
	t.DisplayName = string(appendArch(appendCycle(b, m), m.arch))
	return t, nil
}

// appendCycle appends " (SAL Cycle {c}, Build {b})" or " (SAL Cycle {c})"
// with the raw digit strings, nothing without a cycle.
func appendCycle(b []byte, m *match) []byte {
	if m.cycle == "" {
		return b
	}
	b = append(append(b, " (SAL Cycle "...), m.cycle...)
	if m.cbuild != "" {
		b = append(append(b, ", Build "...), m.cbuild...)
	}
	return append(b, ')')
}

// appendArch appends " [{arch}]", nothing without an architecture.
func appendArch(b []byte, arch string) []byte {
	if arch == "" {
		return b
	}
	return append(append(append(b, " ["...), arch...), ']')
}

func archSuffix(arch string) string { return string(appendArch(nil, arch)) }

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
