package schema

// PrepullInput is the input of the prepull template: #PrepullInput in
// prepull_input.cue, whose comments document each field. Build it with
// [Config.PrepullInput].
type PrepullInput struct {
	Name      string   `json:"name"`
	Namespace string   `json:"namespace"`
	Owner     OwnerRef `json:"owner"`
	Image     string   `json:"image"`
	Node      string   `json:"node"`
}

// OwnerRef names the pod that owns a prepull pod: the controller's own.
type OwnerRef struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}
