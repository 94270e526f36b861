package server

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// Renderer renders the objects of a template from an input: how the
// managers below reach the render engine (*engine.Renderer implements it)
// without importing it. The lab manager renders template "lab" with a
// *schema.LabInput, the file-server manager "fileserver" with a
// *schema.FileserverInput, fsadmin "fsadmin" with a *schema.FSAdminInput
// and the prepuller "prepull" with a *schema.PrepullInput.
type Renderer interface {
	Render(template string, input any) ([]*unstructured.Unstructured, error)
}
