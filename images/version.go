package images

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a semantic version as RSP tags carry it: releases and release
// candidates (major.minor.patch[-rcN]), weeklies (year.week.0) and dailies
// (year.month.day). Build metadata is never set by the tag grammar and is
// ignored by [Version.Compare].
type Version struct {
	Major      int
	Minor      int
	Patch      int
	Prerelease string // empty when none
	Build      string // empty when none; not used for precedence
}

// semverPattern is the official SemVer 2.0 regular expression.
var semverPattern = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

// ParseVersion parses a strict semantic version such as "27.0.0" or
// "28.0.0-rc1", as the cutoffVersion of a [Filter] is written.
func ParseVersion(s string) (Version, error) {
	m := semverPattern.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a valid semantic version", s)
	}
	var v Version
	var err error
	for i, p := range []*int{&v.Major, &v.Minor, &v.Patch} {
		if *p, err = strconv.Atoi(m[i+1]); err != nil {
			return Version{}, fmt.Errorf("%q is not a valid semantic version: %w", s, err)
		}
	}
	v.Prerelease, v.Build = m[4], m[5]
	return v, nil
}

// String formats v as a semantic version.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Prerelease != "" {
		s += "-" + v.Prerelease
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than w under SemVer 2.0: major, minor and patch numerically, a prerelease
// below its release, prerelease identifiers dot by dot (numeric ones
// numerically and below alphanumeric ones, which compare in ASCII order, so
// "rc10" < "rc2"), fewer identifiers first. Build metadata is ignored.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.Major, w.Major); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Minor, w.Minor); c != 0 {
		return c
	}
	if c := cmp.Compare(v.Patch, w.Patch); c != 0 {
		return c
	}
	switch {
	case v.Prerelease == w.Prerelease:
		return 0
	case v.Prerelease == "":
		return 1
	case w.Prerelease == "":
		return -1
	}
	return comparePrerelease(v.Prerelease, w.Prerelease)
}

// comparePrerelease orders two non-empty prerelease strings.
func comparePrerelease(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if c := compareIdentifier(as[i], bs[i]); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(len(as), len(bs)); c != 0 {
		return c
	}
	// Only numerically equal identifiers with different spellings (leading
	// zeros, which SemVer forbids) get here; keep the order total.
	return strings.Compare(a, b)
}

// compareIdentifier orders two prerelease identifiers.
func compareIdentifier(a, b string) int {
	an, aNum := numeric(a)
	bn, bNum := numeric(b)
	switch {
	case aNum && bNum:
		if c := cmp.Compare(len(an), len(bn)); c != 0 {
			return c
		}
		return strings.Compare(an, bn)
	case aNum:
		return -1
	case bNum:
		return 1
	}
	return strings.Compare(a, b)
}

// numeric reports whether s is all ASCII digits and returns it without
// leading zeros, so that numeric identifiers of any length compare by length
// and then lexically.
func numeric(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	t := strings.TrimLeft(s, "0")
	return t, true
}
