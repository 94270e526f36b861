package images

import "strings"

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
