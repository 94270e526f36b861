package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/images"
)

// NewCmdImages is the parent of the image administration commands.
func NewCmdImages() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Inspect and administer the lab-image repository",
		Long: `Inspect and administer the lab-image repository (a Docker registry or
Google Artifact Registry): parse tags the way the spawner menu reads them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(NewCmdImagesParse())
	return cmd
}

// NewCmdImagesParse prints how tags parse under the RSP tag grammar.
func NewCmdImagesParse() *cobra.Command {
	return &cobra.Command{
		Use:   "parse TAG...",
		Short: "Parse image tags with the RSP tag grammar",
		Long: `Parse each tag with the RSP tag grammar and print a JSON array with one
object per tag: tag, image_type, display_name, version (an object or null),
semantic, base, cycle, cycle_build, build, architecture, extra and date
("YYYY-MM-DD HH:MM:SS" or null). Tags are parsed without alias knowledge, so
"recommended" is of type Unknown.`,
		Example: `  nublado images parse w_2021_22 r21_0_1 exp_random`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			tags := make([]images.Tag, len(args))
			for i, a := range args {
				tags[i] = images.ParseTag(a)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(tags)
		},
	}
}
