package cli

import (
	"os"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/provisioners/landingpage"
)

// NewCmdLandingpage is `nublado landingpage`, the init container that
// installs the landing page on science sites.
func NewCmdLandingpage(log *logrus.Logger) *cobra.Command {
	var profile, level string
	cmd := &cobra.Command{
		Use:   "landingpage",
		Short: "Install the landing page into the user's home (lab init container)",
		Long: `landingpage copies the landing-page files into the user's home and makes
JupyterLab open Markdown files in the preview by default. It runs as the user
in the init container nublado-std-landingpage on sites whose RSP_SITE_TYPE is
"science".

Environment (unset or empty means the default):
  NUBLADO_HOME              home directory (default /nonexistent); must exist
  CST_LANDING_PAGE_SRC_DIR  source directory
                            (default /rubin/cst_repos/tutorial-notebooks-data/welcome)
  CST_LANDING_PAGE_TGT_DIR  target directory, relative to the home
                            (default notebooks/tutorials)
  CST_LANDING_PAGE_FILES    comma-separated file names, not trimmed
                            (default welcome.md,logo_for_header.png)
  DEBUG                     any non-empty value logs at debug level

Each file replaces whatever file or symlink is at its destination (a directory
or special file there is an error). The setting defaultViewers.markdown =
"Markdown Preview" is added to
~/.jupyter/lab/user-settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings
unless the user set it. Logs go to standard error.

It never fails the lab: any error is logged ("Provisioner failed") and the
exit code is still 0.

Exit codes:
  0  always, once the command line is valid
  2  wrong command line`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := landingpage.OptionsFromEnv(os.Getenv)
			if opts.Debug {
				level = "DEBUG"
			}
			if err := configureLogger(log, cmd.ErrOrStderr(), profile, level); err != nil {
				return newUsageError("%v", err)
			}
			entry := log.WithFields(logrus.Fields{"logger": "nublado.landingpage", "home": opts.Home})
			res, err := landingpage.Provision(opts)
			if err != nil {
				entry.WithError(err).Error("Provisioner failed")
				return nil
			}
			entry.WithFields(logrus.Fields{"copied": res.Copied, "settings_written": res.SettingsWritten}).
				Debug("Landing page installed")
			return nil
		},
	}
	addLogFlags(cmd, &profile, &level)
	return cmd
}
