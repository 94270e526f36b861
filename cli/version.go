package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// Version is the nublado version, set at build time with
// -ldflags "-X github.com/nublado-go/nublado/cli.Version=...".
var Version = "0.1.0-dev"

// NewCmdVersion prints the version.
func NewCmdVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the nublado version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), Version)
			return err
		},
	}
}
