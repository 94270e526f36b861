package nublado

import "encoding/json"

// This file holds the lab vocabulary shared by the render engine, the lab
// manager and the HTTP server. JSON tags follow the spawner API of
// ../shared/spec/controller.md §1.3 (snake_case, nulls included).

// User is a user as Gafaelfawr's user-info endpoint describes them.
type User struct {
	Username string  `json:"username"`
	Name     *string `json:"name"`
	Email    *string `json:"email,omitempty"`
	UID      *int64  `json:"uid,omitempty"`
	GID      *int64  `json:"gid,omitempty"`
	Groups   []Group `json:"groups"`
	Quota    *Quota  `json:"quota,omitempty"`
}

// Group is one of a user's groups; ID is its GID.
type Group struct {
	Name string `json:"name"`
	ID   int64  `json:"id"`
}

// Quota is the part of a user's Gafaelfawr quota that nublado reads.
type Quota struct {
	Notebook *NotebookQuota `json:"notebook,omitempty"`
}

// NotebookQuota limits a user's lab. Memory is in GiB (a float, as Gafaelfawr
// sends it); Spawn false forbids spawning a lab at all.
type NotebookQuota struct {
	CPU    float64 `json:"cpu"`
	Memory float64 `json:"memory"`
	Spawn  bool    `json:"spawn"`
}

// MemoryBytes is the quota's memory in bytes, int(memory × 2^30) as Nublado
// computes it.
func (q NotebookQuota) MemoryBytes() int64 { return int64(q.Memory * (1 << 30)) }

// LabStatus is the state of a user's lab (§4.1).
type LabStatus string

// Lab statuses. A lab "exists" for conflict checks unless it is Terminated or
// Failed.
const (
	LabPending     LabStatus = "pending"
	LabRunning     LabStatus = "running"
	LabTerminating LabStatus = "terminating"
	LabTerminated  LabStatus = "terminated"
	LabFailed      LabStatus = "failed"
)

// LabSize is a configured lab size name (fine … colossal, or custom for a lab
// rebuilt from Kubernetes whose resources match no configured size).
type LabSize string

// LabOptions are the user's choices for a lab, after parsing the spawner's
// form data. Image is the resolved reference registry/repository:tag@digest.
type LabOptions struct {
	Size         LabSize `json:"size"`
	EnableDebug  bool    `json:"enable_debug"`
	ResetUserEnv bool    `json:"reset_user_env"`
	Image        string  `json:"image"`
}

// ResourceAmounts is an amount of CPU (cores) and memory (bytes).
type ResourceAmounts struct {
	CPU    float64 `json:"cpu"`
	Memory int64   `json:"memory"`
}

// LabResources are a lab's limits and requests.
type LabResources struct {
	Limits   ResourceAmounts `json:"limits"`
	Requests ResourceAmounts `json:"requests"`
}

// UserInfo is the user part of a lab's state.
type UserInfo struct {
	Username string  `json:"username"`
	Name     *string `json:"name"`
	UID      int64   `json:"uid"`
	GID      int64   `json:"gid"`
	Groups   []Group `json:"groups"`
}

// LabState is what the spawner API reports for a user's lab (LabState in
// §1.3 #5). Quota is the user's notebook quota as CPU cores and bytes.
type LabState struct {
	User        UserInfo         `json:"user"`
	Options     LabOptions       `json:"options"`
	Status      LabStatus        `json:"status"`
	InternalURL *string          `json:"internal_url"`
	Resources   LabResources     `json:"resources"`
	Quota       *ResourceAmounts `json:"quota"`
}

// EventType is the SSE event name of a lab operation's progress event.
type EventType string

// Event types of the lab events stream (§1.3 #8).
const (
	EventInfo     EventType = "info"
	EventError    EventType = "error"
	EventFailed   EventType = "failed"
	EventComplete EventType = "complete"
)

// Event is one progress event of a lab operation. Progress is 1–100, or 0
// when the event carries none (it is then left out of the wire form).
type Event struct {
	Type     EventType
	Message  string
	Progress int
}

// ImageRequest is how a create request names its image: exactly one of the
// spawner form's attributes (§1.3 #6). Attribute is the one that was set
// (image_list, image_dropdown, image_class or image_tag) and is used in error
// locations; Value is its value (a Docker reference, an image class such as
// latest-weekly, or a tag).
type ImageRequest struct {
	Attribute string
	Value     string
}

// Image request attributes.
const (
	ImageList     = "image_list"
	ImageDropdown = "image_dropdown"
	ImageClass    = "image_class"
	ImageTag      = "image_tag"
)

// CreateRequest is a validated request to spawn a lab: the authenticated
// user, the delegated token (it becomes the lab's token secret and must never
// be logged), the parsed options and the spawner's environment.
type CreateRequest struct {
	User         User
	Token        string
	Size         LabSize
	EnableDebug  bool
	ResetUserEnv bool
	Image        ImageRequest
	Env          map[string]string
}

// UnmarshalJSON decodes a notebook quota as Gafaelfawr sends it: a missing
// spawn key means spawning is allowed.
func (q *NotebookQuota) UnmarshalJSON(data []byte) error {
	type wire NotebookQuota
	w := wire{Spawn: true}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*q = NotebookQuota(w)
	return nil
}
