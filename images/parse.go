package images

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
