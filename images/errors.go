package images

import "fmt"

// Error types of image resolution (spec §5.6). The server maps
// [*UnknownImageError] to 400 unknown_image and [*InvalidReferenceError] to
// 422 invalid_docker_reference, each with loc ["body", "options",
// Attribute]; Error() is the exact message of the API.

// Request attributes naming how a lab request chose its image; they are the
// last element of an error's loc.
const (
	AttrImageList     = "image_list"
	AttrImageDropdown = "image_dropdown"
	AttrImageClass    = "image_class"
	AttrImageTag      = "image_tag"
)

// UnknownImageError says that the requested image does not exist.
type UnknownImageError struct {
	// Attribute is the request attribute that named the image (AttrImage…).
	Attribute string
	// Message is the API message, e.g. `Docker tag "foo" not found`.
	Message string
}

func (e *UnknownImageError) Error() string { return e.Message }

// Type returns the API error type, "unknown_image".
func (e *UnknownImageError) Type() string { return "unknown_image" }

// Reasons of an [InvalidReferenceError].
const (
	// ReasonNoTag: the reference names neither a tag nor a known digest.
	ReasonNoTag = "has no tag"
	// ReasonUnparsable: the reference is not registry/repository[:tag][@digest]
	// (decision D2: a 422, where Nublado answered 500).
	ReasonUnparsable = "is invalid"
)

// InvalidReferenceError says that a Docker reference cannot be used:
// `Docker reference "{ref}" has no tag` or `Docker reference "{ref}" is
// invalid`.
type InvalidReferenceError struct {
	// Attribute is the request attribute that held the reference.
	Attribute string
	// Reference is the reference as rendered for the message.
	Reference string
	// Reason is ReasonNoTag or ReasonUnparsable.
	Reason string
}

func (e *InvalidReferenceError) Error() string {
	return fmt.Sprintf(`Docker reference "%s" %s`, e.Reference, e.Reason)
}

// Type returns the API error type, "invalid_docker_reference".
func (e *InvalidReferenceError) Type() string { return "invalid_docker_reference" }
