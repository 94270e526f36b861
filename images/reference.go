package images

import "regexp"

// referencePattern is how Nublado splits a Docker reference (spec §5.6).
var referencePattern = regexp.MustCompile(`^(?P<registry>[^/]+)/(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>.+))?$`)

// Reference is a parsed Docker reference
// "{registry}/{repository}[:{tag}][@{digest}]". Tag and Digest are empty
// when absent.
type Reference struct {
	Registry, Repository, Tag, Digest string
}

// ParseReference splits a Docker reference. A string without a "/" (or
// otherwise not of the form above) is an [*InvalidReferenceError].
func ParseReference(s string) (Reference, error) {
	m := referencePattern.FindStringSubmatch(s)
	if m == nil {
		return Reference{}, &InvalidReferenceError{Reference: s, Reason: ReasonUnparsable}
	}
	return Reference{Registry: m[1], Repository: m[2], Tag: m[3], Digest: m[4]}, nil
}

// String renders the reference as "registry/repository[:tag][@digest]".
func (r Reference) String() string {
	s := r.Registry + "/" + r.Repository
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}
