package engine

import (
	"io/fs"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Renderer renders the templates of one CUE module. It is safe for
// concurrent use: renders share the compiled module, which is rebuilt in a
// fresh cue.Context every RecycleAfter renders (see the package
// documentation).
type Renderer struct {
	mod   *module
	opts  options
	names []string

	gen       atomic.Pointer[generation]
	rebuildMu sync.Mutex
}

// generation is the module built in one cue.Context, and how many renders
// have used it.
type generation struct {
	*compiled
	renders atomic.Int64
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
	r := &Renderer{mod: mod, opts: o, names: c.names()}
	r.gen.Store(&generation{compiled: c})
	return r, nil
}

// Templates returns the names of the templates, sorted.
func (r *Renderer) Templates() []string { return append([]string(nil), r.names...) }

// Render unifies input with the input field of the named template and returns
// the template's objects in apply order. Errors are [ErrUnknownTemplate] or a
// [*RenderError].
func (r *Renderer) Render(template string, input any) ([]*unstructured.Unstructured, error) {
	g := r.gen.Load()
	objs, err := g.render(template, input)
	if n := g.renders.Add(1); r.opts.recycleAfter > 0 && n >= int64(r.opts.recycleAfter) {
		r.recycle(g)
	}
	return objs, err
}

// recycle replaces generation old by the module built in a fresh context,
// unless another render is doing or did it already (renders never wait for a
// rebuild). Renders still running on old finish there; the garbage collector
// frees it after them. Building a module that built before cannot fail short
// of a bug in CUE: should it, old keeps serving and the next render tries
// again.
func (r *Renderer) recycle(old *generation) {
	if !r.rebuildMu.TryLock() {
		return
	}
	defer r.rebuildMu.Unlock()
	if r.gen.Load() != old {
		return
	}
	if c, err := r.mod.build(); err == nil {
		r.gen.Store(&generation{compiled: c})
	}
}
