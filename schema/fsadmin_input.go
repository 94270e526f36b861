package schema

// FSAdminInput is the input of the fsadmin template: #FSAdminInput in
// fsadmin_input.cue, whose comments document each field. Build it with
// [Config.FSAdminInput].
type FSAdminInput struct {
	Namespace       string              `json:"namespace"`
	Resources       *ContainerResources `json:"resources,omitempty"`
	ControllerImage ContainerImageRef   `json:"controllerImage"`
}
