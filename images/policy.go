package images

import "time"

// FilterPolicy says which tags of each image type are kept: the controller's
// dropdownMenu (which tags the spawner form offers) and the prune policy of
// `nublado images prune` (which tags are deleted: the inverse). A nil Filter
// keeps every tag of its type. Alias and Unknown tags have no filter and are
// always kept.
type FilterPolicy struct {
	Release          *Filter `json:"release,omitempty"`
	Weekly           *Filter `json:"weekly,omitempty"`
	Daily            *Filter `json:"daily,omitempty"`
	ReleaseCandidate *Filter `json:"releaseCandidate,omitempty"`
	Experimental     *Filter `json:"experimental,omitempty"`
}

// Filter is the retention rule for one image type. The zero value keeps
// everything. For compatibility with Nublado, Number 0 and CutoffBuild 0 mean
// "no limit", not "none".
type Filter struct {
	// Number is the most tags kept (newest first); 0 keeps all.
	Number int `json:"number,omitempty"`
	// Age drops tags whose date is older than now minus Age; 0 is unset.
	Age time.Duration `json:"age,omitempty"`
	// CutoffBuild drops tags with an RSP build number below it; 0 is unset.
	CutoffBuild int `json:"cutoffBuild,omitempty"`
	// CutoffDate drops tags dated before it (UTC). With Age, the later of the
	// two cutoffs applies.
	CutoffDate *time.Time `json:"cutoffDate,omitempty"`
	// CutoffVersion drops semantic (release-based) tags whose version is
	// below it; a strict semver string such as "27.0.0", empty when unset.
	CutoffVersion string `json:"cutoffVersion,omitempty"`
}
