package schema

import "fmt"

// FSAdminInput builds the input of the fsadmin template (§3.7) for the
// controller running in namespace. The template reads the mounts and
// volumes from the configuration and makes its own read-write copies of
// them (decision D7): neither c nor the lab objects rendered later change.
// An empty namespace is an error wrapping [ErrIncompleteRequest].
func (c *Config) FSAdminInput(env Environment, namespace string) (*FSAdminInput, error) {
	if namespace == "" {
		return nil, fmt.Errorf("fsadmin: %w: the controller's namespace is empty", ErrIncompleteRequest)
	}
	return &FSAdminInput{
		Namespace:       namespace,
		Resources:       containerResources(c.FSAdmin.Resources),
		ControllerImage: controllerImage(env),
	}, nil
}
