package schema

import (
	"fmt"
	"regexp"

	nublado "github.com/nublado-go/nublado"
)

// maxDNSLabel is the longest Kubernetes name that must be a DNS-1123 label
// (a namespace name).
const maxDNSLabel = 63

// dnsLabel matches a DNS-1123 label, without the length limit.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// CheckLabRequest runs the checks of a lab create request that need no
// Kubernetes or registry data, in the original's order (§1.3 #6): those of
// [CheckLabUser], then those of [Config.CheckLabSize]. It returns the
// configured size. A caller that must report image errors before size
// errors, as the original does, calls the two halves around the image
// resolution instead.
func (c *Config) CheckLabRequest(user nublado.User, size nublado.LabSize) (*LabSize, error) {
	if err := c.CheckLabUser(user); err != nil {
		return nil, err
	}
	return c.CheckLabSize(user, size)
}

// CheckLabUser checks that a user may spawn a lab, with the messages of
// §1.3 #6 steps 2–3, all *nublado.Error with code permission_denied (403)
// and no loc:
//
//   - a notebook quota with spawn false: "Spawning a notebook is not
//     permitted";
//   - uid missing or 0 (decision D1): "Must have a UID to spawn labs";
//   - gid missing or 0: "Must have a GID to spawn labs";
//   - a username that cannot name the lab's Kubernetes objects (it must be
//     a DNS-1123 label and {namespacePrefix}-{username} at most 63
//     characters): `Username "{u}" cannot be used to name Kubernetes
//     objects`. The original has no such check (Gafaelfawr's usernames
//     always qualify there, and Kubernetes would refuse the namespace
//     later); nublado refuses the request up front, as a permission
//     problem of the user like the uid rule.
func (c *Config) CheckLabUser(user nublado.User) error {
	denied := func(msg string) error {
		return &nublado.Error{Code: nublado.CodePermissionDenied, Message: msg}
	}
	switch {
	case user.Quota != nil && user.Quota.Notebook != nil && !user.Quota.Notebook.Spawn:
		return denied("Spawning a notebook is not permitted")
	case user.UID == nil || *user.UID == 0:
		return denied("Must have a UID to spawn labs")
	case user.GID == nil || *user.GID == 0:
		return denied("Must have a GID to spawn labs")
	case !dnsLabel.MatchString(user.Username) || len(c.LabNamespace(user.Username)) > maxDNSLabel:
		return denied(fmt.Sprintf("Username %q cannot be used to name Kubernetes objects", user.Username))
	}
	return nil
}

// CheckLabSize returns the configured size of a request and checks it
// against the user's notebook quota (§1.3 #6 steps 6–7):
//
//   - a size that lab.sizes does not define (always so when lab.sizes is
//     empty, decision D5): invalid_lab_size (422) `Invalid lab size
//     "{size}"`, loc body.options.size;
//   - a notebook quota whose memory (int(GiB × 2^30) bytes) or CPU is
//     below the size's limits: insufficient_quota (403) "Insufficient quota
//     to spawn requested lab", loc body.options.size.
func (c *Config) CheckLabSize(user nublado.User, size nublado.LabSize) (*LabSize, error) {
	loc := []string{"body", "options", "size"}
	var found *LabSize
	for i := range c.Lab.Sizes {
		if c.Lab.Sizes[i].Size == string(size) {
			found = &c.Lab.Sizes[i]
			break
		}
	}
	if found == nil {
		return nil, &nublado.Error{Code: nublado.CodeInvalidLabSize, Loc: loc,
			Message: `Invalid lab size "` + string(size) + `"`}
	}
	if user.Quota != nil && user.Quota.Notebook != nil {
		nb := user.Quota.Notebook
		limits := found.Resources.Limits
		if nb.MemoryBytes() < limits.Memory || nb.CPU < float64(limits.CPU) {
			return nil, &nublado.Error{Code: nublado.CodeInsufficientQuota, Loc: loc,
				Message: "Insufficient quota to spawn requested lab"}
		}
	}
	return found, nil
}
