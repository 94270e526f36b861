package images

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseReference: ParseReference never panics; a refusal is an
// *InvalidReferenceError (ReasonUnparsable) naming the input; an accepted
// reference has a registry without "/", a repository without ":" or "@",
// a tag without "@", and renders back to exactly the input, which parses
// to the same reference.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"lighthouse.ceres/library/sketchbook:w_2077_43@sha256:5678",
		"docker.io/lsstsqre/sciplat-lab:recommended",
		"registry/repo@sha256:abc", "no-slash:tag", "a/b:", "a/b@", "a/b:c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseReference(s)
		if err != nil {
			var ierr *InvalidReferenceError
			if !errors.As(err, &ierr) || ierr.Reference != s || ierr.Reason != ReasonUnparsable {
				t.Fatalf("ParseReference(%q): error %T %v, want an unparsable *InvalidReferenceError", s, err, err)
			}
			if strings.Contains(s, "/") && !strings.HasPrefix(s, "/") && !strings.ContainsAny(s, "\n") &&
				validParts(s) {
				t.Fatalf("ParseReference(%q) refused a well-formed reference: %v", s, err)
			}
			return
		}
		if r.Registry == "" || strings.Contains(r.Registry, "/") || r.Repository == "" ||
			strings.ContainsAny(r.Repository, ":@") || strings.Contains(r.Tag, "@") {
			t.Fatalf("ParseReference(%q) = %+v: parts out of their grammar", s, r)
		}
		if r.String() != s {
			t.Fatalf("ParseReference(%q) = %+v renders as %q", s, r, r.String())
		}
		if again, err := ParseReference(r.String()); err != nil || again != r {
			t.Fatalf("ParseReference(%q) = %+v, but its rendering parses to %+v, %v", s, r, again, err)
		}
	})
}

// validParts reports whether s is registry/repository[:tag][@digest] by
// splitting, independently of the regular expression: registry up to the
// first "/", digest after the first "@", tag after the first ":" of what
// remains; each part present must be non-empty and the repository must
// not hold ":".
func validParts(s string) bool {
	registry, rest, _ := strings.Cut(s, "/")
	rest, digest, hasDigest := strings.Cut(rest, "@")
	repo, tag, hasTag := strings.Cut(rest, ":")
	return registry != "" && repo != "" && (!hasTag || tag != "") && (!hasDigest || digest != "")
}
