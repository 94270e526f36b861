package images

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// TypeMismatchError is returned when tags of different types are compared:
// only tags of one type are ordered.
type TypeMismatchError struct {
	A, B string    // the tags
	TA   ImageType // type of A
	TB   ImageType // type of B
}

func (e *TypeMismatchError) Error() string {
	return fmt.Sprintf("cannot compare %s tag %q with %s tag %q", e.TA, e.A, e.TB, e.B)
}

// Compare orders two tags of the same type and returns -1, 0 or +1. Tags of
// different types are not comparable: the result is then a
// [*TypeMismatchError]. The key is: semantic-version precedence when both
// have a version, otherwise the base strings (absent first); then cycle,
// cycle build and RSP build (absent first); then extra (absent first); then
// architecture (absent last, so "foo" sorts after "foo-amd64").
func Compare(a, b *Tag) (int, error) {
	if a.Type != b.Type {
		return 0, &TypeMismatchError{A: a.Tag, B: b.Tag, TA: a.Type, TB: b.Type}
	}
	return compareSameType(a, b), nil
}

// Less reports whether a sorts before b. Tags of different types are never
// less than each other (as Python's == across types is false).
func Less(a, b *Tag) bool {
	c, err := Compare(a, b)
	return err == nil && c < 0
}

// compareSameType is Compare without the type check.
func compareSameType(a, b *Tag) int {
	var c int
	if a.Version == nil || b.Version == nil {
		c = compareOptString(a.Base, b.Base)
	} else {
		c = a.Version.Compare(*b.Version)
	}
	if c != 0 {
		return c
	}
	if c = compareOptInt(a.Cycle, b.Cycle); c != 0 {
		return c
	}
	if c = compareOptInt(a.CycleBuild, b.CycleBuild); c != 0 {
		return c
	}
	if c = compareOptInt(a.Build, b.Build); c != 0 {
		return c
	}
	// Extra: absent sorts first.
	switch {
	case a.Extra == b.Extra:
	case a.Extra == "":
		return -1
	case b.Extra == "":
		return 1
	default:
		return strings.Compare(a.Extra, b.Extra)
	}
	// Architecture: absent sorts last.
	switch {
	case a.Architecture == b.Architecture:
		return 0
	case a.Architecture == "":
		return 1
	case b.Architecture == "":
		return -1
	}
	return strings.Compare(a.Architecture, b.Architecture)
}

// compareOptInt orders optional ints with nil first.
func compareOptInt(a, b *int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

// compareOptString orders optional strings with nil first.
func compareOptString(a, b *string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return strings.Compare(*a, *b)
}

// sortDescending orders tags newest first. Tags that compare equal are
// ordered by tag string (Python leaves them in set order, which is
// arbitrary), so the order is deterministic.
func sortDescending[T any](items []T, tag func(T) *Tag) {
	slices.SortFunc(items, func(x, y T) int {
		a, b := tag(x), tag(y)
		if c := compareSameType(b, a); c != 0 {
			return c
		}
		return strings.Compare(a.Tag, b.Tag)
	})
}

// titleCase is Python's str.title(): a cased letter that follows a cased
// letter is lower-cased, any other is title-cased; digits and punctuation
// are not cased.
func titleCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prevCased := false
	for _, r := range s {
		if prevCased {
			b.WriteRune(unicode.ToLower(r))
		} else {
			b.WriteRune(unicode.ToTitle(r))
		}
		prevCased = unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
	}
	return b.String()
}
