package cli

import (
	"errors"
	"os"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/provisioners/inithome"
)

// NewCmdInithome is `nublado inithome`, the init container that provisions
// the user's home directory.
func NewCmdInithome(log *logrus.Logger) *cobra.Command {
	var profile, level string
	cmd := &cobra.Command{
		Use:   "inithome",
		Short: "Create or check the user's home directory (lab init container, as root)",
		Long: `inithome makes sure that $NUBLADO_HOME is a home directory for the user
$NUBLADO_UID:$NUBLADO_GID. It runs as root in the lab's first init container
(nublado-std-inithome) with only the home volume mounted.

  - A missing home is created (one level: its parent must exist) with mode
    0700, owned by the user.
  - An existing home must be a directory. If its owner or group is wrong, it
    must be empty, and its ownership is then reset (with a warning).
  - A mode other than 0700 is logged as a warning and left alone.

All three variables are required; the ids must be integers in 0..4294967294.
Logs go to standard error.

Exit codes:
  0  the home directory is ready
  1  a variable is missing or invalid, or the home cannot be used or created
  2  wrong command line`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := configureLogger(log, cmd.ErrOrStderr(), profile, level); err != nil {
				return newUsageError("%v", err)
			}
			entry := log.WithField("logger", "nublado.inithome")
			opts, err := inithome.ParseEnv(os.LookupEnv)
			if errors.Is(err, inithome.ErrEnvMissing) || errors.Is(err, inithome.ErrEnvNotInteger) {
				entry.Log(logrus.FatalLevel, capitalize(err.Error())+".") // critical; does not exit
				return &ExitError{Code: ExitFailure}
			}
			if err == nil {
				entry = entry.WithFields(logrus.Fields{"home": opts.Home, "uid": opts.UID, "gid": opts.GID})
				var res *inithome.Result
				if res, err = inithome.Provision(opts); err == nil {
					for _, w := range res.Warnings {
						entry.Warn(w)
					}
					entry.WithField("created", res.Created).Debug("Home directory ready")
					return nil
				}
			}
			entry.WithError(err).Error("Cannot provision home directory")
			return &ExitError{Code: ExitFailure}
		},
	}
	addLogFlags(cmd, &profile, &level)
	return cmd
}

// addLogFlags adds --log-profile and --log-level to a provisioner command.
func addLogFlags(cmd *cobra.Command, profile, level *string) {
	cmd.Flags().StringVar(profile, "log-profile", ProfileProduction, "log format: production (JSON lines) or development (text)")
	cmd.Flags().StringVar(level, "log-level", "INFO", "log level: DEBUG, INFO, WARNING, ERROR or CRITICAL")
}

// capitalize upper-cases the first letter of an ASCII message.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
