package schema

import "strconv"

// FileserverInput is the input of the fileserver template: #FileserverInput
// in fileserver_input.cue, whose comments document each field. Build it
// with [Config.FileserverInput].
type FileserverInput struct {
	User            User                `json:"user"`
	Host            string              `json:"host"`
	Timeout         string              `json:"timeout"`
	Resources       *ContainerResources `json:"resources,omitempty"`
	ControllerImage ContainerImageRef   `json:"controllerImage"`
}

// ContainerResources are a container's limits and requests as Kubernetes
// quantity strings (#ContainerResources): CPU in Python's float notation,
// memory in bytes.
type ContainerResources struct {
	Limits   Quantities `json:"limits"`
	Requests Quantities `json:"requests"`
}

// containerResources converts configured resources; nil stays nil.
func containerResources(r *Resources) *ContainerResources {
	if r == nil {
		return nil
	}
	q := func(v ResourceValues) Quantities {
		return Quantities{CPU: v.CPU.String(), Memory: strconv.FormatInt(v.Memory, 10)}
	}
	return &ContainerResources{Limits: q(r.Limits), Requests: q(r.Requests)}
}
