package engine

// Option configures a [Renderer] built by [New].
type Option func(*options)

type options struct {
	strict       bool
	config       any
	hasConfig    bool
	templatesDir string
	kindsDir     string
	patches      *Patches
}

func defaultOptions() options {
	return options{
		templatesDir: "templates",
		kindsDir:     "templates/kinds",
	}
}

// Strict makes every render unify each object with its Kubernetes API
// definition (looked up by apiVersion and kind in the #Kinds table of the
// kinds package), so that an unknown field or a wrong type is a
// [*RenderError]. It costs about fifteen times a plain render.
func Strict() Option { return func(o *options) { o.strict = true } }

// Config fills v into the templates package's top-level config field once,
// when the templates are compiled, instead of with every render: what the
// templates compute from the configuration alone is then evaluated once and
// shared by all renders. v is the static configuration the templates
// read (the controller's schema.Config), converted like a render input.
func Config(v any) Option {
	return func(o *options) { o.config, o.hasConfig = v, true }
}

// TemplatesDir sets the directory of the templates package inside the fs.FS
// given to [New] (default "templates").
func TemplatesDir(dir string) Option { return func(o *options) { o.templatesDir = dir } }

// KindsDir sets the directory of the package that defines #Kinds, used only
// in strict mode (default "templates/kinds").
func KindsDir(dir string) Option { return func(o *options) { o.kindsDir = dir } }

// WithPatches applies site patches (see [ParsePatches]) to the objects of
// every render, after the strict check: a patch is the site's to get
// right, and the API server validates the patched objects.
func WithPatches(p *Patches) Option { return func(o *options) { o.patches = p } }
