// Package cli is nublado's cobra command tree. Commands are thin: they parse
// flags, call one library function and print its result. Each command lives in
// its own file with a NewCmdX constructor; flags are bound in closures so that
// tests can build a fresh tree with [NewRoot] and drive it with SetArgs.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
)

// Exit codes of the nublado binary.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the command ran and failed (bad input, failed operation)
	ExitUsage   = 2 // the command line itself was wrong
)

// NewRoot returns the root command with every subcommand attached. log is the
// process logger; commands that read a configuration file reconfigure its
// level and format from it.
func NewRoot(log *logrus.Logger) *cobra.Command {
	root := &cobra.Command{
		Use:   "nublado",
		Short: "Nublado: JupyterLab for the Rubin Science Platform on Kubernetes",
		Long: `nublado spawns per-user JupyterLab environments on Kubernetes for the
Rubin Science Platform. The same binary is the lab controller (nublado serve),
the operator's offline tools (validate, render, diff, apply, images, purger) and
the init-container provisioners of every lab (inithome, landingpage, startup).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError{err}
	})
	root.AddCommand(
		NewCmdVersion(),
		NewCmdStartup(log),
		NewCmdValidate(),
		NewCmdPurger(log),
		NewCmdInithome(log),
		NewCmdLandingpage(log),
		NewCmdRender(),
		NewCmdApply(),
		NewCmdDiff(),
		NewCmdImages(log),
	)
	return root
}

// Execute runs the command line args and returns the process exit code. Errors
// are printed to stderr, one line each.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	log := logrus.New()
	log.SetOutput(stderr)
	root := NewRoot(log)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	return exitCode(err, stderr)
}

// exitCode prints err and maps it to an exit code.
func exitCode(err error, stderr io.Writer) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "Error: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "Error: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

// ExitError makes a command exit with Code. Err, when set, is printed first.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// usageError marks a wrong command line (exit code 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// newUsageError reports a wrong command line found by a command's own checks.
func newUsageError(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}
