package engine

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"
)

var (
	// ErrUnknownTemplate is returned by [Renderer.Render] for a template
	// name the templates package does not define.
	ErrUnknownTemplate = errors.New("unknown template")
	// ErrNoTemplates is returned by [New] when the templates package defines
	// no template (no top-level field with input and objects).
	ErrNoTemplates = errors.New("no templates found")
	// ErrNotAnObject is wrapped by the [*RenderError] of a template whose
	// objects list holds something else than structs.
	ErrNotAnObject = errors.New("not an object")
	// ErrUnknownKind is wrapped by the [*RenderError] of a strict render when
	// an object's apiVersion and kind have no entry in #Kinds.
	ErrUnknownKind = errors.New("no Kubernetes schema for this kind")
)

// RenderError is a template that cannot be rendered with the given input:
// the input does not satisfy the template's input schema, the template does
// not produce concrete objects, or (in strict mode) an object does not
// satisfy its Kubernetes definition. It names the first failing field; Err
// holds every CUE error, to be printed with [cueerrors.Details] at the edge
// (CLI output, HTTP body).
type RenderError struct {
	// Template is the name of the template.
	Template string
	// Object identifies the failing object as Kind/name ("Pod/rachel-nb"),
	// or is empty when the error is not inside one object (a bad input).
	Object string
	// Path is the dotted path of the failing field, relative to the object
	// when Object is set ("spec.containerz"), otherwise relative to the
	// template ("input.user.uid").
	Path string
	// Message is CUE's message for the first error, without positions
	// ("field not allowed", "conflicting values 1 and string ...").
	Message string
	// Err is the underlying error: a CUE error list or [ErrUnknownKind].
	Err error
}

// Error implements error.
func (e *RenderError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rendering template %q: ", e.Template)
	if e.Object != "" {
		b.WriteString(e.Object + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *RenderError) Unwrap() error { return e.Err }

// Details returns the error with every CUE error and its source positions,
// one per line, file names relative to the module root. It is meant for the
// edges: the CLI's output and HTTP error bodies.
func (e *RenderError) Details() string {
	var cerr cueerrors.Error
	if !errors.As(e.Err, &cerr) {
		return e.Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "rendering template %q", e.Template)
	if e.Object != "" {
		b.WriteString(": " + e.Object)
	}
	b.WriteString(":\n")
	b.WriteString(cueerrors.Details(cerr, &cueerrors.Config{Cwd: overlayRoot, ToSlash: true}))
	return b.String()
}

// newRenderError builds a RenderError from a CUE error. object is the id of
// the object the error belongs to when known; otherwise, when the error lies
// inside the objects list, the object is found through objs and the path is
// made relative to it.
func newRenderError(template, object string, err error, objs cue.Value) *RenderError {
	errs := cueerrors.Errors(err)
	re := &RenderError{Template: template, Object: object, Err: err, Message: err.Error()}
	if len(errs) == 0 {
		return re
	}
	first := errs[0]
	format, args := first.Msg()
	re.Message = fmt.Sprintf(format, args...)
	path := first.Path()
	switch {
	case len(path) > 0 && path[0] == template:
		path = path[1:]
	case len(path) >= 3 && path[0] == kindsPath.String():
		path = path[3:] // #Kinds.<apiVersion>.<kind>: the object itself
	}
	if object == "" && len(path) >= 2 && path[0] == "objects" && objs.Exists() {
		if i, convErr := strconv.Atoi(path[1]); convErr == nil {
			re.Object = objectID(objs.LookupPath(cue.MakePath(cue.Index(i))))
			path = path[2:]
		}
	}
	re.Path = strings.Join(path, ".")
	return re
}

// objectID returns Kind/name of a rendered object, with "?" for parts that
// are not concrete strings.
func objectID(obj cue.Value) string {
	kind, err := obj.LookupPath(cue.ParsePath("kind")).String()
	if err != nil {
		kind = "?"
	}
	name, err := obj.LookupPath(cue.ParsePath("metadata.name")).String()
	if err != nil {
		name = "?"
	}
	return kind + "/" + name
}
