package engine

import (
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Renderer renders the templates of one CUE module, compiled once by [New].
// It is safe for concurrent use (see the package documentation).
type Renderer struct {
	c     *compiled
	names []string
}

// New loads the CUE module from fsys (cue.mod/module.cue, the templates
// package, see [TemplatesDir], and everything it imports) and compiles the
// templates once. Only the .cue files of fsys are read, once. Errors are CUE
// load and build errors, wrapped, or [ErrNoTemplates].
func New(fsys fs.FS, opts ...Option) (*Renderer, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	mod, err := loadModule(fsys, o)
	if err != nil {
		return nil, err
	}
	c, err := mod.build()
	if err != nil {
		return nil, err
	}
	return &Renderer{c: c, names: c.names()}, nil
}

// Templates returns the names of the templates, sorted.
func (r *Renderer) Templates() []string { return append([]string(nil), r.names...) }

// Render unifies input with the input field of the named template and returns
// the template's objects in apply order. Errors are [ErrUnknownTemplate] or a
// [*RenderError].
func (r *Renderer) Render(template string, input any) ([]*unstructured.Unstructured, error) {
	return r.c.render(template, input)
}
