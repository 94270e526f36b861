package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// verb is what a render subcommand does with the objects: print, apply or
// diff them.
type verb string

// The verbs, named after their parent commands.
const (
	verbRender verb = "render"
	verbApply  verb = "apply"
	verbDiff   verb = "diff"
)

// serviceCommand is one template besides the lab: its name, flags, help
// and how it builds its input.
type serviceCommand struct {
	name, use, short, long, args string
	// flags registers the template's own flags and returns the function
	// that builds the input from them.
	flags func(cmd *cobra.Command) func(cfg *schema.Config, env schema.Environment) (any, error)
}

// serviceCommands are the fileserver, fsadmin and prepull subcommands of
// render, apply and diff.
var serviceCommands = []serviceCommand{
	{
		name:  "fileserver",
		use:   "fileserver --config FILE --user FILE",
		short: "a user's file server",
		long: `fileserver renders a user's file server as the controller creates it on the
user's first request to the file-server route: the PVCs of the mounted PVC
volumes, the GafaelfawrIngress, the Service and the Job, in that order, in
namespace fileserver.namespace. File servers must be enabled.`,
		args:  "--config config.yaml --user rachel.json",
		flags: fileserverFlags,
	},
	{
		name:  "fsadmin",
		use:   "fsadmin --config FILE",
		short: "the file-system administration pod",
		long: `fsadmin renders the file-system administration pod as the controller creates
it for POST /fsadmin/v1/service: the PVCs it mounts, then the pod, in the
controller's namespace. Every lab and extra file system is mounted read-write
under fsadmin.mountPrefix.`,
		args:  "--config config.yaml --namespace nublado",
		flags: fsadminFlags,
	},
	{
		name:  "prepull",
		use:   "prepull --config FILE --metadata DIR --image REFERENCE --node NAME",
		short: "the pod that prepulls an image onto a node",
		long: `prepull renders the pod the prepuller creates to pull an image onto a node, in
the controller's namespace and owned by the controller's pod. --metadata is the
controller's pod-metadata directory (metadataPath, files name, namespace and
uid); --image is registry/repository:tag@digest.`,
		args:  "--config config.yaml --metadata /etc/podinfo \\\n      --image docker.io/lsstsqre/sciplat-lab:w_2077_43@sha256:0123abcd --node node-1",
		flags: prepullFlags,
	},
}

// newServiceCommands returns the fileserver, fsadmin and prepull
// subcommands of the parent command v: each renders its template and hands
// the objects to run; bad input exits with badInput.
func newServiceCommands(v verb, run func(*cobra.Command, []*unstructured.Unstructured) error, badInput int) []*cobra.Command {
	cmds := make([]*cobra.Command, len(serviceCommands))
	for i, s := range serviceCommands {
		cmds[i] = s.command(v, run, badInput)
	}
	return cmds
}

// command builds the subcommand of s under the parent command v.
func (s serviceCommand) command(v verb, run func(*cobra.Command, []*unstructured.Unstructured) error, badInput int) *cobra.Command {
	cmd := &cobra.Command{Use: s.use, Args: cobra.NoArgs}
	switch v {
	case verbRender:
		cmd.Short = "Render " + s.short
		cmd.Long = s.long + environmentHelp
	case verbApply:
		cmd.Short = "Render " + s.short + " and apply it"
		cmd.Long = fmt.Sprintf("%s renders %s\nexactly as \"nublado render %s\" does and applies the objects as\n\"nublado apply\" does.", s.name, s.short, s.name)
	case verbDiff:
		cmd.Short = "Render " + s.short + " and show what applying it would change"
		cmd.Long = fmt.Sprintf("%s renders %s\nexactly as \"nublado render %s\" does and diffs the objects as\n\"nublado diff\" does. Bad input exits 2, like any failed diff.", s.name, s.short, s.name)
	}
	cmd.Example = fmt.Sprintf("  nublado %s %s %s", v, s.name, s.args)
	if v != verbRender {
		cmd.Example += " \\\n      --kubeconfig ~/.kube/config"
	}
	var configPath, patches string
	var strict bool
	cmd.Flags().StringVar(&configPath, "config", "", "controller configuration file (required)")
	cmd.Flags().BoolVar(&strict, "strict", false, "check every object against its Kubernetes API schema")
	addPatchesFlag(cmd.Flags(), &patches)
	_ = cmd.MarkFlagRequired("config")
	build := s.flags(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		objs, err := renderService(cmd, s.name, configPath, patches, strict, build)
		if err != nil {
			return &ExitError{Code: badInput, Err: explain(err)}
		}
		return run(cmd, objs)
	}
	return cmd
}

// environmentHelp says which environment variables the renders read.
const environmentHelp = `

The environment is read as the controller reads it: EXTERNAL_INSTANCE_URL and
NUBLADO_CONTROLLER_REPOSITORY, _TAG and _PULL_POLICY.`

// renderService loads the configuration and the environment (printing
// their warnings), builds the input and renders the template.
func renderService(cmd *cobra.Command, template, configPath, patches string, strict bool,
	build func(*schema.Config, schema.Environment) (any, error)) ([]*unstructured.Unstructured, error) {
	cfg, err := schema.Load(configPath)
	if err != nil {
		return nil, err
	}
	env, warns := schema.ReadEnvironment(os.LookupEnv)
	for _, w := range append(cfg.Warnings(), warns...) {
		fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v\n", w)
	}
	in, err := build(cfg, env)
	if err != nil {
		return nil, err
	}
	opts, err := patchesOptions(patches)
	if err != nil {
		return nil, err
	}
	opts = append(opts, engine.Config(cfg))
	if strict {
		opts = append(opts, engine.Strict())
	}
	r, err := engine.New(nublado.CUE, opts...)
	if err != nil {
		return nil, err
	}
	return r.Render(template, in)
}

// fileserverFlags registers --user.
func fileserverFlags(cmd *cobra.Command) func(*schema.Config, schema.Environment) (any, error) {
	var user string
	cmd.Flags().StringVar(&user, "user", "", "Gafaelfawr user-info JSON of the file server's owner (required)")
	_ = cmd.MarkFlagRequired("user")
	return func(cfg *schema.Config, env schema.Environment) (any, error) {
		var u nublado.User
		if err := readJSON("--user", user, &u); err != nil {
			return nil, err
		}
		return cfg.FileserverInput(env, u)
	}
}

// fsadminFlags registers --namespace.
func fsadminFlags(cmd *cobra.Command) func(*schema.Config, schema.Environment) (any, error) {
	var namespace string
	cmd.Flags().StringVar(&namespace, "namespace", "nublado", "the controller's namespace")
	return func(cfg *schema.Config, env schema.Environment) (any, error) {
		return cfg.FSAdminInput(env, namespace)
	}
}

// prepullFlags registers --metadata, --image and --node.
func prepullFlags(cmd *cobra.Command) func(*schema.Config, schema.Environment) (any, error) {
	var metadata, image, node string
	fs := cmd.Flags()
	fs.StringVar(&metadata, "metadata", "", "the controller's pod-metadata directory: files name, namespace and uid (required)")
	fs.StringVar(&image, "image", "", "the image to prepull, registry/repository:tag@digest (required)")
	fs.StringVar(&node, "node", "", "the node to prepull it onto (required)")
	for _, name := range []string{"metadata", "image", "node"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return func(cfg *schema.Config, _ schema.Environment) (any, error) {
		md, err := schema.ReadPodMetadata(metadata)
		if err != nil {
			return nil, err
		}
		ref, err := images.ParseReference(image)
		if err != nil || ref.Tag == "" || ref.Digest == "" {
			return nil, fmt.Errorf("--image %q: not of the form registry/repository:tag@digest", image)
		}
		return cfg.PrepullInput(schema.PrepullRequest{
			Namespace: md.Namespace, OwnerName: md.Name, OwnerUID: md.UID,
			Image: image, Tag: ref.Tag, Node: node,
		})
	}
}
