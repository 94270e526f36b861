package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
)

// labFlags are the inputs of a lab render, shared by `render lab`,
// `apply lab` and `diff lab`.
type labFlags struct {
	config    string
	user      string
	spec      string
	token     string
	secrets   string
	discovery string
	registry  string
	namespace string
	strict    bool
	patches   string
}

// register adds the flags to cmd.
func (f *labFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.config, "config", "", "controller configuration file (required)")
	fs.StringVar(&f.user, "user", "", "Gafaelfawr user-info JSON of the lab's owner (required)")
	fs.StringVar(&f.spec, "spec", "", "body of the create request, as the spawner sends it (required)")
	fs.StringVar(&f.token, "token", "", "delegated token stored in the lab's Secret")
	fs.StringVar(&f.secrets, "secrets", "",
		"JSON map of the controller namespace's Secrets: name → key → plain value")
	fs.StringVar(&f.discovery, "discovery", "", "Repertoire discovery document (default: an empty one)")
	fs.StringVar(&f.registry, "registry", "",
		"JSON map tag → digest of the image repository; without it the requested reference is used as given")
	fs.StringVar(&f.namespace, "namespace", "nublado", "the controller's namespace")
	fs.BoolVar(&f.strict, "strict", false, "check every object against its Kubernetes API schema")
	addPatchesFlag(fs, &f.patches)
	for _, name := range []string{"config", "user", "spec"} {
		_ = cmd.MarkFlagRequired(name)
	}
}

// labCommand describes a `lab` subcommand: its help texts, what it does
// with the rendered objects (print, apply or diff them) and its exit code
// for bad input.
type labCommand struct {
	short, long, example string
	run                  func(*cobra.Command, []*unstructured.Unstructured) error
	badInput             int
}

// newCmdLab returns a `lab` subcommand that renders a lab from its flags
// and hands the objects to c.run.
func newCmdLab(c labCommand) *cobra.Command {
	f := &labFlags{}
	cmd := &cobra.Command{
		Use:   "lab --config FILE --user FILE --spec FILE",
		Short: c.short,
		Long: c.long + `

The environment is read as the controller reads it: EXTERNAL_INSTANCE_URL,
REPERTOIRE_BASE_URL and NUBLADO_CONTROLLER_REPOSITORY, _TAG and _PULL_POLICY.
--secrets holds plain values (Kubernetes stores them base64-encoded); the Secret
that lab.pullSecret names is of type kubernetes.io/dockerconfigjson. --registry
resolves the requested image as the controller resolves it against a Docker
registry with these tags.`,
		Example: c.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := f.render(cmd)
			if err != nil {
				return &ExitError{Code: c.badInput, Err: explain(err)}
			}
			return c.run(cmd, objs)
		},
	}
	f.register(cmd)
	return cmd
}

// render loads every input, builds the lab input and renders it.
func (f *labFlags) render(cmd *cobra.Command) ([]*unstructured.Unstructured, error) {
	cfg, err := schema.Load(f.config)
	if err != nil {
		return nil, err
	}
	env, warns := schema.ReadEnvironment(os.LookupEnv)
	for _, w := range append(cfg.Warnings(), warns...) {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", w)
	}
	req, err := f.request(cmd.Context(), cfg)
	if err != nil {
		return nil, err
	}
	in, err := cfg.LabInput(env, req)
	if err != nil {
		return nil, err
	}
	opts, err := patchesOptions(f.patches)
	if err != nil {
		return nil, err
	}
	opts = append(opts, engine.Config(cfg))
	if f.strict {
		opts = append(opts, engine.Strict())
	}
	r, err := engine.New(nublado.CUE, opts...)
	if err != nil {
		return nil, err
	}
	return r.Render("lab", in)
}

// request reads the user, spec, secrets, discovery and registry files into
// a lab request.
func (f *labFlags) request(ctx context.Context, cfg *schema.Config) (schema.LabRequest, error) {
	req := schema.LabRequest{Token: f.token, Namespace: f.namespace}
	if err := readJSON("--user", f.user, &req.User); err != nil {
		return req, err
	}
	data, err := os.ReadFile(f.spec)
	if err != nil {
		return req, fmt.Errorf("reading --spec: %w", err)
	}
	create, err := server.ParseCreateBody(data)
	if err != nil {
		return req, specError(f.spec, err)
	}
	req.Size, req.EnableDebug, req.ResetUserEnv, req.Env = create.Size, create.EnableDebug, create.ResetUserEnv, create.Env
	if req.Image, err = f.image(ctx, cfg, create.Image); err != nil {
		return req, err
	}
	if err := f.readSecrets(cfg, &req); err != nil {
		return req, err
	}
	if f.discovery != "" {
		if req.Discovery, err = os.ReadFile(f.discovery); err != nil {
			return req, fmt.Errorf("reading --discovery: %w", err)
		}
	}
	return req, nil
}

// specError lists the validation errors of the --spec file, one per line
// with its location, as the create route's 422 body lists them.
func specError(path string, err error) error {
	var verr *server.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("--spec %s: %w", path, err)
	}
	msg := "--spec " + path + ": invalid create request:"
	for _, d := range verr.Detail {
		parts := make([]string, len(d.Loc))
		for i, l := range d.Loc {
			parts[i] = fmt.Sprint(l)
		}
		msg += fmt.Sprintf("\n%s: %s (%s)", strings.Join(parts, "."), d.Msg, d.Type)
	}
	return &inputError{msg: msg, err: err}
}

// readSecrets fills the source Secrets and the pull secret from --secrets.
func (f *labFlags) readSecrets(cfg *schema.Config, req *schema.LabRequest) error {
	if f.secrets == "" {
		return nil
	}
	var plain map[string]map[string]string
	if err := readJSON("--secrets", f.secrets, &plain); err != nil {
		return err
	}
	req.Secrets = make(map[string]map[string][]byte, len(plain))
	for name, keys := range plain {
		data := make(map[string][]byte, len(keys))
		for k, v := range keys {
			data[k] = []byte(v)
		}
		req.Secrets[name] = data
	}
	if data, ok := req.Secrets[cfg.Lab.PullSecret]; ok && cfg.Lab.PullSecret != "" {
		req.PullSecret = &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: data}
	}
	return nil
}

// readJSON decodes the JSON file of a flag into v.
func readJSON(flag, path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", flag, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return nil
}

// image resolves the request's image: against the tags of --registry as
// the controller resolves it against a Docker registry, or, without
// --registry, as given.
func (f *labFlags) image(ctx context.Context, cfg *schema.Config, req nublado.ImageRequest) (schema.LabImage, error) {
	ireq := images.ImageRequest{Attribute: req.Attribute, Value: req.Value}
	var (
		img *images.Image
		err error
	)
	if f.registry != "" {
		var digests map[string]string
		if err := readJSON("--registry", f.registry, &digests); err != nil {
			return schema.LabImage{}, err
		}
		img, err = registryCatalog(cfg, digests).Resolve(ctx, ireq, mapDigester(digests))
	} else {
		img, err = imageAsGiven(cfg, ireq)
	}
	if err != nil {
		return schema.LabImage{}, imageError(err)
	}
	return schema.NewLabImage(img), nil
}

// registryCatalog is the catalog a refresh of a Docker registry holding the
// tags of digests would build.
func registryCatalog(cfg *schema.Config, digests map[string]string) *images.Catalog {
	ic := cfg.Images
	s := images.Settings{
		RecommendedTag: ic.RecommendedTag, NumReleases: ic.NumReleases, NumWeeklies: ic.NumWeeklies,
		NumDailies: ic.NumDailies, Cycle: ic.Cycle, Pin: ic.Pin, AliasTags: ic.AliasTags,
	}
	names := make([]string, 0, len(digests))
	for tag := range digests {
		names = append(names, tag)
	}
	tags := images.TagCollectionFromNames(names, s.Aliases(), s.Cycle)
	dc := images.DockerConfig{Registry: ic.Source.Host(), Repository: ic.Source.Path()}
	return images.NewDockerCatalog(dc, s, tags, digests)
}

// mapDigester looks up digests in the --registry map.
type mapDigester map[string]string

func (m mapDigester) Digest(_ context.Context, tag string) (string, error) {
	if d, ok := m[tag]; ok {
		return d, nil
	}
	return "", fmt.Errorf("tag %q is not in --registry", tag)
}

// imageAsGiven makes the image of a request without a registry to look
// in: a reference is taken as it is (it needs a tag), a tag names an image
// of the configured repository without digest, and a class cannot be
// resolved.
func imageAsGiven(cfg *schema.Config, req images.ImageRequest) (*images.Image, error) {
	host, path := cfg.Images.Source.Host(), cfg.Images.Source.Path()
	switch req.Attribute {
	case images.AttrImageTag:
		return images.NewImage(images.ParseTag(req.Value), host, path, ""), nil
	case images.AttrImageClass:
		return nil, fmt.Errorf("image_class %q can only be resolved with --registry", req.Value)
	}
	ref, err := images.ParseReference(req.Value)
	if err != nil {
		err.(*images.InvalidReferenceError).Attribute = req.Attribute
		return nil, err
	}
	if ref.Tag == "" {
		return nil, &images.InvalidReferenceError{Attribute: req.Attribute, Reference: ref.String(), Reason: images.ReasonNoTag}
	}
	return images.NewImage(images.ParseTag(ref.Tag), ref.Registry, ref.Repository, ref.Digest), nil
}

// imageError turns the errors of image resolution into the API errors the
// controller answers with.
func imageError(err error) error {
	var (
		unknown *images.UnknownImageError
		invalid *images.InvalidReferenceError
	)
	switch {
	case errors.As(err, &unknown):
		return &nublado.Error{Code: nublado.CodeUnknownImage, Message: unknown.Message,
			Loc: []string{"body", "options", unknown.Attribute}, Err: err}
	case errors.As(err, &invalid):
		return &nublado.Error{Code: nublado.CodeInvalidDockerReference, Message: invalid.Error(),
			Loc: []string{"body", "options", invalid.Attribute}, Err: err}
	}
	return err
}
