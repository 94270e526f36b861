package cli

import (
	"io"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Exit codes of `nublado diff`, as diff(1) and kubectl diff use them.
const (
	exitDiffNone    = 0 // the cluster already matches
	exitDiffChanges = 1 // applying would change something
	exitDiffTrouble = 2 // the diff could not be made
)

// diffFlags are the flags of `nublado diff`, shared with its subcommands
// (which render objects and hand them to run).
type diffFlags struct {
	kube kubeFlags
	file string
}

// NewCmdDiff shows what `nublado apply` would change. Subcommands that
// render objects (lab, fileserver, ...) are added here and call flags.run
// with their objects, inheriting the connection flags.
func NewCmdDiff() *cobra.Command {
	f := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff -f FILE|-",
		Short: "Show what applying Kubernetes objects would change",
		Long: `diff reads Kubernetes objects like apply, asks the API server what a
server-side apply would make of each one (a dry run: nothing changes) and prints
a unified diff from the live object to that result, leaving out managedFields,
resourceVersion, generation, uid, creationTimestamp and status, with Secret
values masked. It exits 0 when nothing would change, 1 when something would, and
2 when the diff failed.`,
		Example: `  nublado render lab --config config.yaml --user rachel.json | nublado diff -f -`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := readObjects(cmd, f.file)
			if err != nil {
				return err
			}
			return f.run(cmd, objs)
		},
	}
	f.kube.register(cmd)
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", `file of objects to diff, "-" for stdin`)
	cmd.AddCommand(newCmdLab(labCommand{
		short: "Render a user's lab and show what applying it would change",
		long: `lab renders a user's lab exactly as "nublado render lab" does and diffs the
objects as "nublado diff" does. Bad input exits 2, like any failed diff.`,
		example: `  nublado diff lab --config config.yaml --user rachel.json --spec create.json \
      --secrets secrets.json --kubeconfig ~/.kube/config`,
		run:      f.run,
		badInput: exitDiffTrouble,
	}))
	return cmd
}

// run diffs objs, prints the diff and sets the exit code.
func (f *diffFlags) run(cmd *cobra.Command, objs []*unstructured.Unstructured) error {
	a, err := f.kube.applier()
	if err != nil {
		return &ExitError{Code: exitDiffTrouble, Err: err}
	}
	ctx, cancel := f.kube.withTimeout(cmd.Context())
	defer cancel()
	d, err := a.Diff(ctx, objs)
	if err != nil {
		return &ExitError{Code: exitDiffTrouble, Err: err}
	}
	if _, err := io.WriteString(cmd.OutOrStdout(), d.String()); err != nil {
		return &ExitError{Code: exitDiffTrouble, Err: err}
	}
	if d.Changed() {
		return &ExitError{Code: exitDiffChanges}
	}
	return nil
}
