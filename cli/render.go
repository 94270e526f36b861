package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/engine"
)

// NewCmdRender renders Kubernetes objects offline. Each kind of object set
// (lab, ...) is a subcommand; -o is shared by all of them.
func NewCmdRender() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the Kubernetes objects the controller would create, offline",
		Long: `render builds the Kubernetes objects the controller would create from the
controller configuration and the inputs of a request, without a cluster or a
registry, and prints them in apply order: a YAML stream (-o yaml, the default)
or one JSON array (-o json). Nothing is contacted; the same inputs always give
the same bytes. Exit status: 0 on success, 1 for bad input (the message names
the problem), 2 for a wrong command line.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return newUsageError("render needs a subcommand: lab")
		},
	}
	cmd.PersistentFlags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	// An unknown -o is a usage error found before any work is done.
	cmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		if output != "yaml" && output != "json" {
			return newUsageError("-o must be yaml or json, not %q", output)
		}
		return nil
	}
	print := func(cmd *cobra.Command, objs []*unstructured.Unstructured) error {
		return printObjects(cmd, output, objs)
	}
	cmd.AddCommand(newCmdLab(labCommand{
		short: "Render a user's lab",
		long: `lab renders the objects of a user's lab as the controller creates them for a
create request: the namespace, PVCs, ConfigMaps, Secrets, ResourceQuota,
NetworkPolicy, Service and Pod, in that order.`,
		example: `  nublado render lab --config config.yaml --user rachel.json --spec create.json
  nublado render lab --config config.yaml --user rachel.json --spec create.json \
      --secrets secrets.json --registry tags.json --discovery discovery.json -o json`,
		run:      print,
		badInput: ExitFailure,
	}))
	return cmd
}

// printObjects writes objs in the format of -o.
func printObjects(cmd *cobra.Command, format string, objs []*unstructured.Unstructured) error {
	var (
		out []byte
		err error
	)
	switch format {
	case "yaml":
		out, err = engine.MarshalYAML(objs)
	case "json":
		out, err = engine.MarshalJSON(objs)
	default:
		return newUsageError("-o must be yaml or json, not %q", format)
	}
	if err != nil {
		return err
	}
	_, err = cmd.OutOrStdout().Write(out)
	return err
}

// inputError is bad input to a render: its message is meant for the
// operator and may span several lines.
type inputError struct {
	msg string
	err error
}

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return e.err }

// explain turns the errors of loading and rendering into messages an
// operator can act on: API errors with their code and location, every
// configuration problem on its own line, CUE errors with their positions.
func explain(err error) error {
	var (
		nerr *nublado.Error
		rerr *engine.RenderError
		merr *multierror.Error
	)
	switch {
	case errors.As(err, &nerr):
		msg := fmt.Sprintf("%s (%s", nerr.Message, nerr.Code)
		if len(nerr.Loc) > 0 {
			msg += ", at " + strings.Join(nerr.Loc, ".")
		}
		return &inputError{msg: msg + ")", err: err}
	case errors.As(err, &rerr):
		return &inputError{msg: strings.TrimRight(rerr.Details(), "\n"), err: err}
	case errors.As(err, &merr):
		lines := make([]string, len(merr.Errors))
		for i, e := range merr.Errors {
			lines[i] = e.Error()
		}
		return &inputError{msg: "invalid configuration:\n" + strings.Join(lines, "\n"), err: err}
	}
	return err
}
