package images

import (
	"sort"
)

// Node is what the image logic needs to know about a Kubernetes node (a
// plain copy of the parts of core/v1 Node it reads, so that this package
// does not depend on the Kubernetes API types).
type Node struct {
	Name   string
	Labels map[string]string
	Taints []Taint
	// Images is the node's status.images.
	Images []ContainerImage
}

// ContainerImage is one entry of a node's status.images.
type ContainerImage struct {
	Names     []string
	SizeBytes int64
}

// Taint is a node taint (core/v1 Taint without its timestamp).
type Taint struct {
	Key, Value string
	// Effect is NoSchedule, PreferNoSchedule or NoExecute.
	Effect string
}

// Toleration is a pod toleration as the lab configuration declares it.
type Toleration struct {
	Key string
	// Operator is Equal (the default when empty) or Exists.
	Operator string
	Value    string
	// Effect is empty (any effect) or NoSchedule, PreferNoSchedule or
	// NoExecute.
	Effect string
	// TolerationSeconds, when set, bounds how long a NoExecute taint is
	// tolerated; such a toleration never makes a node eligible.
	TolerationSeconds *int64
}

// Taint effects and toleration operators.
const (
	EffectNoSchedule       = "NoSchedule"
	EffectPreferNoSchedule = "PreferNoSchedule"
	EffectNoExecute        = "NoExecute"
	OperatorEqual          = "Equal"
	OperatorExists         = "Exists"
)

// Tolerates reports whether the toleration tolerates the taint: the effect
// must be empty or equal (and a toleration with TolerationSeconds never
// tolerates NoExecute); Exists matches the key, or every key when the key is
// empty; Equal needs key and value equal.
func (t Toleration) Tolerates(taint Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.TolerationSeconds != nil && taint.Effect == EffectNoExecute {
		return false
	}
	if t.Operator == OperatorExists {
		return t.Key == "" || t.Key == taint.Key
	}
	return t.Key == taint.Key && t.Value == taint.Value
}

// Eligibility decides whether labs (hence prepulled images) can run on a
// node with these taints: every taint other than PreferNoSchedule must be
// tolerated. For an ineligible node the comment names the first taint not
// tolerated: "Node is tainted (NoSchedule, key = value)", or without
// " = value" when the taint has no value.
func Eligibility(taints []Taint, tolerations []Toleration) (eligible bool, comment string) {
	for _, taint := range taints {
		if taint.Effect == EffectPreferNoSchedule || tolerated(taint, tolerations) {
			continue
		}
		if taint.Value != "" {
			return false, "Node is tainted (" + taint.Effect + ", " + taint.Key + " = " + taint.Value + ")"
		}
		return false, "Node is tainted (" + taint.Effect + ", " + taint.Key + ")"
	}
	return true, ""
}

func tolerated(taint Taint, tolerations []Toleration) bool {
	for _, t := range tolerations {
		if t.Tolerates(taint) {
			return true
		}
	}
	return false
}

// CachedImage is an image in a node's cache.
type CachedImage struct {
	// References are the names the node lists for the image.
	References []string
	// Digest is the digest of the first reference that has one ("" if
	// none has).
	Digest string
	// Size is the size in bytes the node reports.
	Size int64
}

// CachedImages turns a node's status.images into cached images, skipping
// entries without names.
func CachedImages(images []ContainerImage) []CachedImage {
	var out []CachedImage
	for _, img := range images {
		if len(img.Names) == 0 {
			continue
		}
		out = append(out, CachedImage{
			References: append([]string(nil), img.Names...),
			Digest:     DigestOf(img.Names),
			Size:       img.SizeBytes,
		})
	}
	return out
}

// DigestOf returns the digest of the first name that parses as a Docker
// reference with a digest (of any repository), or "".
func DigestOf(names []string) string {
	for _, n := range names {
		if r, err := ParseReference(n); err == nil && r.Digest != "" {
			return r.Digest
		}
	}
	return ""
}

// NodeState is a node as the image logic sees it after a refresh: whether
// labs may run there and what it has cached.
type NodeState struct {
	Name     string
	Eligible bool
	// Comment explains why an ineligible node is not eligible.
	Comment string
	Cached  []CachedImage
}

// NewNodeState computes a node's eligibility under the lab tolerations and
// its cached images.
func NewNodeState(n Node, tolerations []Toleration) NodeState {
	eligible, comment := Eligibility(n.Taints, tolerations)
	return NodeState{Name: n.Name, Eligible: eligible, Comment: comment, Cached: CachedImages(n.Images)}
}

// EligibleNodes returns the sorted names of the eligible nodes.
func EligibleNodes(nodes []NodeState) []string {
	var out []string
	for _, n := range nodes {
		if n.Eligible {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}
