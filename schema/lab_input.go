package schema

// LabInput is the input of the lab template: #LabInput in lab_input.cue,
// whose comments document each field. Go computes every value here; the
// template only arranges them into objects. Maps and slices may be nil.
type LabInput struct {
	User                 User              `json:"user"`
	Namespace            string            `json:"namespace"`
	Image                Image             `json:"image"`
	Size                 ResolvedSize      `json:"size"`
	Quota                *Quantities       `json:"quota,omitempty"`
	Env                  map[string]string `json:"env,omitempty"`
	HomeDirectory        string            `json:"homeDirectory"`
	GroupsAnnotation     string            `json:"groupsAnnotation"`
	DiscoveryFile        string            `json:"discoveryFile"`
	NamespaceAnnotations map[string]string `json:"namespaceAnnotations,omitempty"`
	// SecretData holds plain values; the Secret object carries them
	// base64-encoded.
	SecretData      map[string][]byte `json:"secretData,omitempty"`
	PullSecret      *SecretCopy       `json:"pullSecret,omitempty"`
	ControllerImage ContainerImageRef `json:"controllerImage"`
}

// User is the owner of a lab (#User).
type User struct {
	// Username is a valid Kubernetes name component.
	Username string `json:"username"`
	// Name is the display name; nil when Gafaelfawr has none.
	Name *string `json:"name"`
	// UID and GID are never 0 (decision D1).
	UID int64 `json:"uid"`
	GID int64 `json:"gid"`
	// Groups in Gafaelfawr's order.
	Groups []UserGroup `json:"groups,omitempty"`
}

// UserGroup is a group of a [User] (#UserGroup).
type UserGroup struct {
	Name string `json:"name"`
	ID   int64  `json:"id"`
}

// Image is a resolved lab image (#Image).
type Image struct {
	// Reference is registry/repository:tag@digest.
	Reference string `json:"reference"`
	// Digest is sha256:...
	Digest string `json:"digest"`
	// Description is the display name.
	Description string `json:"description"`
}

// ResolvedSize is a lab size with its resources as Kubernetes quantity
// strings (#ResolvedSize).
type ResolvedSize struct {
	// Name is the size, e.g. small.
	Name string `json:"name"`
	// Label is the lab form's text, e.g. "Small (1.0 CPU, 3Gi RAM)".
	Label    string     `json:"label"`
	Limits   Quantities `json:"limits"`
	Requests Quantities `json:"requests"`
	// TmpSizeLimit is a quarter of the memory limit in bytes, the size of
	// the lab's /tmp.
	TmpSizeLimit string `json:"tmpSizeLimit"`
}

// Quantities is a CPU amount in Python's float notation ("1.0") and a
// memory amount in bytes ("3221225472") (#Quantities).
type Quantities struct {
	CPU    string `json:"cpu"`
	Memory string `json:"memory"`
}

// SecretCopy is the type and data of a Secret copied into the lab.
type SecretCopy struct {
	Type string            `json:"type"`
	Data map[string][]byte `json:"data,omitempty"`
}

// ContainerImageRef is an image reference and its pull policy
// (#ContainerImageRef).
type ContainerImageRef struct {
	Reference  string `json:"reference"`
	PullPolicy string `json:"pullPolicy"`
}
