package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/provisioners/purger"
)

// purgerLogger is the logger name of the purger's log lines.
const purgerLogger = "rsp_scratchpurger"

// purgerOptions are the options common to nublado purger and its subcommands.
type purgerOptions struct {
	dryRun     bool
	policyFile string
	configFile string
	debug      bool
}

// NewCmdPurger is `nublado purger {report|execute|warn}`.
func NewCmdPurger(log *logrus.Logger) *cobra.Command {
	opts := &purgerOptions{}
	cmd := &cobra.Command{
		Use:   "purger",
		Short: "Delete old files from scratch directories by a policy",
		Long: `The scratch purger deletes files from directory trees by a policy and then
removes the empty directories left behind. It runs as a CronJob
("nublado purger execute") with /etc/purger/config.yaml and the policy file.

The policy lists directory trees, each with a size threshold and, for small
(< threshold) and large files, the longest a file may go unaccessed, without
an inode change ("creation") or unmodified. A tree nested in another one is
governed by its own policy only. Symlinks are never followed nor deleted, and
nothing outside the configured directories is touched.

The config file is -c/--config-file if given, else $RSP_SCRATCHPURGER_CONFIG_FILE
if set, else /etc/purger/config.yaml. Its keys (policyFile, dryRun, debug,
futureDuration, logProfile, logLevel, addTimestamp, alertHook; camelCase or
snake_case) are overridden by NUBLADO_<KEY> environment variables (e.g.
NUBLADO_DRY_RUN=true). Flags can only switch dry-run and debug on. Logs, and
the report, go to standard output; failures are posted to the Slack webhook
alertHook (or $NUBLADO_ALERT_HOOK) when set.

The options below may be given before or after the subcommand.

Exit codes:
  0  success (also a dry run, or a report)
  1  the config or policy could not be read, or a file could not be examined
     or deleted (the purge goes on and fails at the end)
  2  wrong command line`,
		Args: cobra.NoArgs,
	}
	f := cmd.PersistentFlags()
	f.BoolVarP(&opts.dryRun, "dry-run", "x", false, "do not act, but report what would be done")
	f.StringVarP(&opts.policyFile, "policy-file", "p", "", "policy file (overrides policyFile from the config)")
	f.StringVarP(&opts.configFile, "config-file", "c", purger.DefaultConfigFile, "application config file")
	f.BoolVarP(&opts.debug, "debug", "d", false, "log at debug level in the development format (env DEBUG)")
	cmd.AddCommand(
		newCmdPurgerMode(log, opts, purger.ModeReport, "Report what would be purged (never deletes)",
			"Plan, then log the report: the directories considered and the files due."),
		newCmdPurgerMode(log, opts, purger.ModeExecute, "Purge the files due and the empty directories",
			`Plan, log the report, then delete the planned files and every empty directory
beneath the policy directories (deepest first), except the policy directories
and their ancestors. With dry-run, or with futureDuration set, it reports
instead of deleting.`),
		newCmdPurgerWarn(log, opts),
	)
	return cmd
}

func newCmdPurgerMode(log *logrus.Logger, opts *purgerOptions, mode purger.Mode, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   string(mode),
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPurger(cmd, log, opts, mode, 0)
		},
	}
}

func newCmdPurgerWarn(log *logrus.Logger, opts *purgerOptions) *cobra.Command {
	var future string
	cmd := &cobra.Command{
		Use:   "warn",
		Short: "Report what will be due after a duration",
		Long: `Plan as if now were --future-duration later (or the config's futureDuration),
then log the report. Never deletes. The duration is a string such as 3650d,
1w2d or 4h30m (units w, d, h, m, s; plain numbers are not accepted).`,
		Example: "  nublado purger warn -t 7d",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var d time.Duration
			if future != "" {
				var err error
				if d, err = purger.ParseDurationString(future); err != nil {
					return newUsageError("--future-duration: %v", err)
				}
			}
			return runPurger(cmd, log, opts, purger.ModeWarn, d)
		},
	}
	cmd.Flags().StringVarP(&future, "future-duration", "t", "", "plan as if now were this much later (e.g. 3650d)")
	return cmd
}

// runPurger loads the config, applies the flags, configures logging and runs.
func runPurger(cmd *cobra.Command, log *logrus.Logger, opts *purgerOptions, mode purger.Mode, future time.Duration) error {
	debugEnv, err := envBool("DEBUG")
	if err != nil {
		return newUsageError("DEBUG: %v", err)
	}
	path := opts.configFile
	if env := os.Getenv(purger.ConfigFileEnv); env != "" && !cmd.Flags().Changed("config-file") {
		path = env
	}
	cfg, err := purger.ReadConfig(path, os.Environ())
	if err != nil {
		alert(cmd.Context(), log.WithField("logger", purgerLogger), os.Getenv(purger.AlertHookEnv), err)
		return err
	}
	if opts.policyFile != "" {
		cfg.PolicyFile = opts.policyFile
	}
	cfg.DryRun = cfg.DryRun || opts.dryRun
	cfg.Debug = cfg.Debug || opts.debug || debugEnv
	if future > 0 {
		cfg.FutureDuration = future
	}
	profile, level := cfg.LogProfile, cfg.LogLevel
	if cfg.Debug {
		profile, level = ProfileDevelopment, "DEBUG"
	}
	if err := configureLogger(log, cmd.OutOrStdout(), profile, level); err != nil {
		return err
	}
	tuneFormatter(log, cfg.AddTimestamp)
	entry := log.WithField("logger", purgerLogger)
	err = purger.Run(cmd.Context(), cfg, mode, entry)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, purger.ErrNoFutureDuration):
		return newUsageError("%v", err)
	}
	var purgeErr *purger.PurgeError
	var planErr *purger.PlanError
	if !errors.As(err, &purgeErr) && !errors.As(err, &planErr) {
		entry.WithError(err).Error("Purger failed")
	}
	alert(cmd.Context(), entry, cfg.AlertHook, err)
	return &ExitError{Code: ExitFailure} // logged above
}

// alert posts err to the Slack webhook hook, if any, logging a failure to.
func alert(ctx context.Context, log *logrus.Entry, hook string, err error) {
	if hook == "" {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if perr := purger.PostAlert(ctx, nil, hook, err); perr != nil {
		log.WithError(perr).Warn("Cannot post alert to Slack")
	}
}

// envBool reads a boolean environment variable; unset or empty is false.
func envBool(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := purger.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q is not a boolean", v)
	}
	return b, nil
}

// tuneFormatter shows or hides the time in log lines, and keeps the report's
// "->" readable in JSON (no HTML escaping).
func tuneFormatter(log *logrus.Logger, timestamps bool) {
	switch f := log.Formatter.(type) {
	case *logrus.JSONFormatter:
		f.DisableTimestamp = !timestamps
		f.DisableHTMLEscape = true
	case *logrus.TextFormatter:
		f.DisableTimestamp = !timestamps
	}
}
