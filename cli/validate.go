package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/schema"
)

// NewCmdValidate checks a controller configuration file.
func NewCmdValidate() *cobra.Command {
	var (
		path   string
		strict bool
	)
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a controller configuration file",
		Long: `validate loads a controller configuration (Nublado's config.yaml) exactly as
the controller does at start: it checks every key, default and rule of the
#Config schema and applies the environment overrides. It prints "ok" when the
file is valid, and otherwise one line per error with its file:line:column and
field path, and exits 1.

Values that Nublado accepts but that will not work (a Kubernetes API server
would reject the objects built from them, or no lab size is defined) are
printed as warnings on stderr; with --strict they are errors.`,
		Example: `  nublado validate --config /etc/nublado/config.yaml
  nublado validate --config deploy/examples/full.yaml --strict`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runValidate(cmd.OutOrStdout(), cmd.ErrOrStderr(), path, strict)
		},
	}
	cmd.Flags().StringVar(&path, "config", schema.DefaultPath, "configuration file")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings as errors")
	return cmd
}

// runValidate loads path and reports the result.
func runValidate(stdout, stderr io.Writer, path string, strict bool) error {
	cfg, err := schema.Load(path)
	if err != nil {
		var merr *multierror.Error
		if !errors.As(err, &merr) {
			return err
		}
		for _, e := range merr.Errors {
			fmt.Fprintf(stderr, "error: %v\n", e)
		}
		return &ExitError{Code: ExitFailure}
	}
	prefix := "warning"
	if strict {
		prefix = "error"
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintf(stderr, "%s: %v\n", prefix, w)
	}
	if strict && len(cfg.Warnings()) > 0 {
		return &ExitError{Code: ExitFailure}
	}
	_, err = fmt.Fprintln(stdout, "ok")
	return err
}
