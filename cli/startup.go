package cli

import (
	"os"
	"strings"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"

	"github.com/nublado-go/nublado/provisioners/startup"
)

// NewCmdStartup prepares a lab (the last init container of a lab pod) from
// the process environment, with the production paths.
func NewCmdStartup(log *logrus.Logger) *cobra.Command {
	return newCmdStartup(log, os.Environ, startup.Options{})
}

// newCmdStartup is NewCmdStartup reading env and using opts, for tests.
func newCmdStartup(log *logrus.Logger, env func() []string, opts startup.Options) *cobra.Command {
	return &cobra.Command{
		Use:   "startup",
		Short: "Prepare the user's home and the lab's environment (lab init container)",
		Long: `startup runs as the user in the last init container of every lab pod
(nublado-std-startup). It prepares the home directory named by NUBLADO_HOME and
writes the lab's startup files into /etc/nublado/startup:

  env.json   the variables the lab must add to its environment (HOME, USER,
             TMPDIR and DAF_BUTLER_CACHE_DIRECTORY in the user's scratch,
             CPU_LIMIT and the thread counts, IMAGE_DIGEST, PANDA_CONFIG_ROOT,
             FIREFLY_URL from Repertoire discovery, Butler credential paths)
  args.json  the jupyterhub-singleuser command line

In the home directory it moves the user environment aside when RESET_USER_ENV
is set, drops expired astropy downloads, checks that 1 MiB can be written
(emptying ~/.cache and ~/.astropy/cache once if not), merges the mounted AWS
and PostgreSQL credentials into ~/.lsst, fixes the dask dashboard link, runs
'git lfs install', installs the IPython logging profile, ~/.dir_colors and the
files of /etc/skel that are missing, and raises the notebook's
maxNumberOutputs to 10000.

A failing step does not fail the container: the startup becomes abnormal, the
ABNORMAL_STARTUP_* variables (errno, symbolic code such as EDQUOT, ENOSPC,
EACCES, EROFS, or EBADENV = 200 for a missing variable, message) go into
env.json, and the lab starts in the user's scratch directory (else /tmp)
with a notebooks/tutorials/welcome.md explaining what happened.

Logs go to stdout as one JSON object per line (NUBLADO_LOG_PROFILE=development
switches to text); the level is DEBUG when DEBUG is non-empty, else INFO.

Exit codes:
  0  the lab was prepared, normally or in abnormal-startup (recovery) mode;
     also when env.json or args.json could not be written (logged; the lab
     container then fails to start), as in Nublado
  1  NUBLADO_LOG_PROFILE names an unknown profile
  2  wrong command line (startup takes no arguments or flags)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vars := environMap(env())
			level := "INFO"
			if vars["DEBUG"] != "" {
				level = "DEBUG"
			}
			if err := configureLogger(log, cmd.OutOrStdout(), vars["NUBLADO_LOG_PROFILE"], level); err != nil {
				return err
			}
			entry := log.WithField("logger", "nublado")
			res, err := startup.Run(cmd.Context(), opts, vars, entry)
			if err != nil {
				entry.WithError(err).Error("Writing Lab startup files failed")
				return nil
			}
			entry.WithField("abnormal", res.Abnormal != nil).Info("Lab startup files written")
			return nil
		},
	}
}

// environMap turns KEY=VALUE pairs into a map; the last of repeated keys wins.
func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
