package engine

import (
	"io/fs"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Renderer renders the templates of one CUE module, compiled once by [New].
// It is safe for concurrent use (see the package documentation).
type Renderer struct {
	c       *compiled
	names   []string
	patches *Patches
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
	return &Renderer{c: c, names: c.names(), patches: o.patches}, nil
}

// Templates returns the names of the templates, sorted.
func (r *Renderer) Templates() []string { return append([]string(nil), r.names...) }

// Render unifies input with the input field of the named template and returns
// the template's objects in apply order, with the site patches of
// [WithPatches] applied. Errors are [ErrUnknownTemplate], a [*RenderError]
// or a site patch's error.
func (r *Renderer) Render(template string, input any) ([]*unstructured.Unstructured, error) {
	objs, err := r.c.render(template, input)
	if err != nil || r.patches == nil {
		return objs, err
	}
	return r.patches.Apply(objs)
}
