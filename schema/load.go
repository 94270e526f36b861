package schema

import (
	"fmt"
	"io/fs"
	"os"
	"sync"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/load"
	cueyaml "cuelang.org/go/encoding/yaml"
	"github.com/hashicorp/go-multierror"

	nublado "github.com/nublado-go/nublado"
)

// DefaultPath is where the controller reads its configuration.
const DefaultPath = "/etc/nublado/config.yaml"

// Option changes how [Load] and [Parse] read a configuration.
type Option func(*options)

type options struct {
	lookupEnv func(string) (string, bool)
	fsys      fs.FS
}

// WithLookupEnv replaces [os.LookupEnv] as the source of the environment
// overrides (EXTERNAL_INSTANCE_URL, NUBLADO_SLACK_WEBHOOK, METRICS_*).
func WithLookupEnv(lookup func(string) (string, bool)) Option {
	return func(o *options) { o.lookupEnv = lookup }
}

// WithoutEnv reads the configuration as the file has it, with no
// environment overrides.
func WithoutEnv() Option {
	return WithLookupEnv(func(string) (string, bool) { return "", false })
}

// WithSchemaFS loads #Config from fsys (a CUE module root holding
// cue.mod/module.cue and schema/*.cue) instead of the embedded
// [nublado.CUE].
func WithSchemaFS(fsys fs.FS) Option {
	return func(o *options) { o.fsys = fsys }
}

// Load reads, validates and normalises the configuration file at path. On
// failure the error is a *multierror.Error of [*FieldError] values, one per
// problem, sorted by position; a file that cannot be read gives a plain
// wrapped error.
func Load(path string, opts ...Option) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(data, path, opts...)
}

// Parse is [Load] for YAML already in memory; filename is used in error
// positions.
func Parse(data []byte, filename string, opts ...Option) (*Config, error) {
	o := options{lookupEnv: os.LookupEnv}
	for _, opt := range opts {
		opt(&o)
	}
	s, err := compiled(o.fsys)
	if err != nil {
		return nil, err
	}
	return s.parse(data, filename, o)
}

// configSchema is a compiled #Config and the context it lives in. CUE
// contexts are not safe for concurrent building, so mu serialises parses.
type configSchema struct {
	mu     sync.Mutex
	cuectx *cue.Context
	def    cue.Value
}

var (
	embeddedOnce   sync.Once
	embeddedSchema *configSchema
	embeddedErr    error
)

// compiled returns the #Config of fsys, or the embedded one (compiled once
// per process) when fsys is nil.
func compiled(fsys fs.FS) (*configSchema, error) {
	if fsys != nil {
		return compile(fsys)
	}
	embeddedOnce.Do(func() { embeddedSchema, embeddedErr = compile(nublado.CUE) })
	return embeddedSchema, embeddedErr
}

// compile loads the schema package from fsys and looks up #Config.
func compile(fsys fs.FS) (*configSchema, error) {
	insts := load.Instances([]string{"./schema"}, &load.Config{FS: fsys, Dir: "/", Env: []string{}})
	if len(insts) != 1 || insts[0].Err != nil {
		return nil, fmt.Errorf("loading the config schema: %w", insts[0].Err)
	}
	cuectx := cuecontext.New()
	v := cuectx.BuildInstance(insts[0])
	if err := v.Err(); err != nil {
		return nil, fmt.Errorf("building the config schema: %w", err)
	}
	def := v.LookupPath(cue.ParsePath("#Config"))
	if err := def.Err(); err != nil {
		return nil, fmt.Errorf("looking up #Config: %w", err)
	}
	return &configSchema{cuectx: cuectx, def: def}, nil
}

// parse validates data against #Config and decodes it.
func (s *configSchema) parse(data []byte, filename string, o options) (*Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	file, err := cueyaml.Extract(filename, data)
	if err != nil {
		return nil, collect(err, nil, filename)
	}
	input := s.cuectx.BuildFile(file)
	if err := input.Err(); err != nil {
		return nil, collect(err, nil, filename)
	}
	doc := &document{value: input, filename: filename}
	v := s.def.Unify(input)
	if err := v.Validate(cue.Concrete(true), cue.Hidden(true)); err != nil {
		return nil, collect(err, doc, filename)
	}
	cfg, err := decode(v, doc, o)
	if err != nil {
		return nil, err
	}
	cfg.warnings = warnings(cfg, doc)
	return cfg, nil
}

// decode turns a valid #Config value into a Config: units are normalised
// in the JSON tree (found through their @unit attributes), then the tree is
// unmarshalled.
func decode(v cue.Value, doc *document, o options) (*Config, error) {
	raw, err := v.MarshalJSON()
	if err != nil {
		return nil, collect(err, doc, doc.filename)
	}
	tree, err := unmarshalTree(raw)
	if err != nil {
		return nil, err
	}
	var errs *multierror.Error
	for _, f := range unitFields(v) {
		if err := normaliseUnit(tree, f); err != nil {
			errs = multierror.Append(errs, doc.fieldError(f.path, err.Error()))
		}
	}
	if errs != nil {
		return nil, finish(errs)
	}
	dropDisabledFileserver(tree)
	cfg, err := fromTree(tree)
	if err != nil {
		return nil, err
	}
	cfg.Lab.Files.reorder(fieldNames(v.LookupPath(cue.ParsePath("lab.files"))))
	applyEnvironment(cfg, tree, o.lookupEnv)
	normalise(cfg)
	return cfg, nil
}

// fieldNames lists the regular fields of a struct value in their order
// (the order of the configuration file); nil when v is not a struct.
func fieldNames(v cue.Value) []string {
	iter, err := v.Fields()
	if err != nil {
		return nil
	}
	var names []string
	for iter.Next() {
		names = append(names, iter.Selector().Unquoted())
	}
	return names
}
