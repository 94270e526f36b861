package engine

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
)

var (
	configPath  = cue.ParsePath("config")
	inputPath   = cue.ParsePath("input")
	objectsPath = cue.ParsePath("objects")
	kindsPath   = cue.MakePath(cue.Def("#Kinds"))
)

// overlayRoot is where the module is mounted for the CUE loader. See
// loadModule for why it is an overlay, and why under /proc: Linux does not
// let anyone create a directory there, so the host can neither shadow nor
// add to the module's files.
const overlayRoot = "/proc/nublado-cue"

// module is the loaded (parsed, not yet evaluated) CUE module.
type module struct {
	templates *build.Instance
	kinds     *build.Instance // nil unless strict
	config    any
	hasConfig bool
}

// loadModule parses the templates package (and the kinds package in strict
// mode) with everything they import from fsys.
//
// It would be load.Config{FS: fsys}, but in cuelang.org/go v0.17.1 FS mode
// cannot import packages from cue.mod/gen (the loader fails with "cannot get
// absolute path for FS of type *load.fsIOFS", see TestCUEFSModeGenImports).
// So the files of fsys are handed to the loader as an overlay mounted at
// overlayRoot, a directory that does not exist on the host; with Env empty
// the loader reads nothing else (no registry, no cache, no CUE_* variables).
func loadModule(fsys fs.FS, o options) (*module, error) {
	overlay, err := overlayOf(fsys)
	if err != nil {
		return nil, err
	}
	dirs := []string{"./" + o.templatesDir}
	if o.strict {
		dirs = append(dirs, "./"+o.kindsDir)
	}
	insts := load.Instances(dirs, &load.Config{Dir: overlayRoot, Overlay: overlay, Env: []string{}})
	for i, inst := range insts {
		if inst.Err != nil {
			return nil, fmt.Errorf("loading CUE package %q: %w", dirs[i], inst.Err)
		}
	}
	m := &module{templates: insts[0], config: o.config, hasConfig: o.hasConfig}
	if o.strict {
		m.kinds = insts[1]
	}
	return m, nil
}

// overlayOf returns the .cue files of fsys keyed by their path under
// overlayRoot.
func overlayOf(fsys fs.FS) (map[string]load.Source, error) {
	overlay := map[string]load.Source{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".cue") {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		overlay[path.Join(overlayRoot, p)] = load.FromBytes(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the CUE module: %w", err)
	}
	return overlay, nil
}

// compiled is the module built in one cue.Context: the templates by name and,
// in strict mode, the #Kinds table.
type compiled struct {
	templates map[string]cue.Value
	kinds     cue.Value
	strict    bool
	exporter  *exporter
}

// build evaluates the module in a new cue.Context.
func (m *module) build() (*compiled, error) {
	cuectx := cuecontext.New()
	pkg := cuectx.BuildInstance(m.templates)
	if err := pkg.Err(); err != nil {
		return nil, fmt.Errorf("building templates: %w", err)
	}
	if m.hasConfig {
		pkg = pkg.FillPath(configPath, m.config)
		if err := pkg.LookupPath(configPath).Validate(cue.Concrete(true)); err != nil {
			return nil, fmt.Errorf("filling the templates' config: %w", err)
		}
	}
	// Evaluate the whole package now, with the templates' inputs still
	// abstract: what depends on the configuration alone is computed once
	// here and shared by every render.
	if err := pkg.Validate(); err != nil {
		return nil, fmt.Errorf("building templates: %w", err)
	}
	c := &compiled{templates: map[string]cue.Value{}, exporter: &exporter{pkgPath: m.templates.ImportPath}}
	it, err := pkg.Fields()
	if err != nil {
		return nil, fmt.Errorf("listing templates: %w", err)
	}
	for it.Next() {
		v := it.Value()
		if !v.LookupPath(inputPath).Exists() || !v.LookupPath(objectsPath).Exists() {
			continue
		}
		c.templates[it.Selector().Unquoted()] = v
	}
	if len(c.templates) == 0 {
		return nil, fmt.Errorf("building templates: %w", ErrNoTemplates)
	}
	if m.kinds != nil {
		kpkg := cuectx.BuildInstance(m.kinds)
		c.kinds = kpkg.LookupPath(kindsPath)
		if err := c.kinds.Err(); err != nil {
			return nil, fmt.Errorf("building the Kubernetes kinds table: %w", err)
		}
		c.strict = true
	}
	return c, nil
}

// names returns the template names, sorted.
func (c *compiled) names() []string {
	names := make([]string, 0, len(c.templates))
	for n := range c.templates {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
