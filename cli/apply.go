package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nublado-go/nublado/apply"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// applyFlags are the flags of `nublado apply`, shared with its
// subcommands (which render objects and hand them to run).
type applyFlags struct {
	kube     kubeFlags
	file     string
	recreate bool
	wait     bool
}

// NewCmdApply applies objects read from a file or stdin the way the
// controller does. Subcommands that render objects (lab, fileserver, ...)
// are added here and call flags.run with their objects, inheriting the
// connection flags.
func NewCmdApply() *cobra.Command {
	f := &applyFlags{}
	cmd := &cobra.Command{
		Use:   "apply -f FILE|-",
		Short: "Apply Kubernetes objects with server-side apply, as the controller does",
		Long: `apply reads Kubernetes objects (a YAML stream, a JSON object or a JSON array)
from a file or, with -f -, from stdin, and applies them with server-side apply as
field manager "nublado", the way the controller does: namespaces first, then the
other objects concurrently, then pods and jobs once their namespace's default
ServiceAccount exists. It prints one line per object: created, configured,
unchanged or recreated.`,
		Example: `  nublado render lab --config config.yaml --user rachel.json | nublado apply -f -
  nublado apply -f lab.yaml --kubeconfig ~/.kube/config --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readObjects(cmd, f.file)
			if err != nil {
				return err
			}
			return f.run(cmd, objs)
		},
	}
	f.kube.register(cmd)
	cmd.PersistentFlags().BoolVar(&f.recreate, "recreate", false,
		"delete and recreate pods and jobs whose spec cannot be changed in place")
	cmd.PersistentFlags().BoolVar(&f.wait, "wait", false, "wait until the objects are ready (kstatus)")
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", `file of objects to apply, "-" for stdin`)
	cmd.AddCommand(newCmdLab(labCommand{
		short: "Render a user's lab and apply it",
		long: `lab renders a user's lab exactly as "nublado render lab" does and applies the
objects as "nublado apply" does.`,
		example: `  nublado apply lab --config config.yaml --user rachel.json --spec create.json \
      --secrets secrets.json --token "$TOKEN" --kubeconfig ~/.kube/config --wait`,
		run:      f.run,
		badInput: ExitFailure,
	}))
	return cmd
}

// run applies objs and prints the change set.
func (f *applyFlags) run(cmd *cobra.Command, objs []*unstructured.Unstructured) error {
	a, err := f.kube.applier()
	if err != nil {
		return err
	}
	ctx, cancel := f.kube.withTimeout(cmd.Context())
	defer cancel()
	var opts []apply.ApplyOption
	if f.recreate {
		opts = append(opts, apply.Recreate())
	}
	cs, err := a.Apply(ctx, objs, opts...)
	if _, perr := io.WriteString(cmd.OutOrStdout(), cs.String()); perr != nil && err == nil {
		err = perr
	}
	if err != nil || !f.wait {
		return err
	}
	return a.Wait(ctx, objs)
}

// kubeFlags are the flags of commands that talk to a cluster.
type kubeFlags struct {
	kubeconfig string
	context    string
	qps        float32
	burst      int
	timeout    time.Duration
}

// register adds the flags to cmd as persistent flags, so that subcommands
// inherit them.
func (k *kubeFlags) register(cmd *cobra.Command) {
	fs := cmd.PersistentFlags()
	fs.StringVar(&k.kubeconfig, "kubeconfig", "",
		"kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the in-cluster configuration)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context (default: the current context)")
	fs.Float32Var(&k.qps, "qps", apply.DefaultQPS, "client requests per second")
	fs.IntVar(&k.burst, "burst", apply.DefaultBurst, "client request burst")
	fs.DurationVar(&k.timeout, "timeout", 5*time.Minute, "give up after this long (0: no limit)")
}

// restConfig loads the client configuration.
func (k *kubeFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: k.context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}

// applier returns an Applier for the configured cluster.
func (k *kubeFlags) applier() (*apply.Applier, error) {
	cfg, err := k.restConfig()
	if err != nil {
		return nil, err
	}
	return apply.NewForConfig(cfg, apply.WithClientRate(k.qps, k.burst))
}

// withTimeout bounds ctx by the --timeout flag.
func (k *kubeFlags) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if k.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, k.timeout)
}

// readObjects reads the objects of -f FILE, or stdin for "-".
func readObjects(cmd *cobra.Command, file string) ([]*unstructured.Unstructured, error) {
	if file == "" {
		return nil, newUsageError("-f FILE|- is required")
	}
	r := cmd.InOrStdin()
	if file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("reading objects: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	objs, err := apply.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("reading objects from %q: %w", file, err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("reading objects from %q: no objects", file)
	}
	return objs, nil
}
