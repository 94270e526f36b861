package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/nublado-go/nublado/images"
)

// imagesDeps is what the images commands take from the process; tests
// replace it (a GAR endpoint, a transport to a test registry).
type imagesDeps struct {
	environ func() []string
	// isTerminal reports whether a writer is a terminal.
	isTerminal func(io.Writer) bool
	// credentials is the Docker credentials file used when neither -a nor
	// the config names one, if it is a regular file.
	credentials string
	docker      []images.DockerOption
	gar         []images.GAROption
	now         func() time.Time
}

// imagesFlags are the options of list, delete and prune.
type imagesFlags struct {
	config, credentials string
	debug               bool
}

const imagesExitCodes = `

Exit codes:
  0  success
  1  the config or credentials could not be read, or the registry failed
  2  wrong command line`

const imagesConfigHelp = `

The config (-c, YAML; every key camelCase or snake_case, unknown keys
rejected) has source (type docker with registry and repository, or type
google with location, projectId, repository and image), prune (a filter per
image type: release, weekly, daily, releaseCandidate, experimental, each
with number, age, cutoffBuild, cutoffDate, cutoffVersion), logLevel,
logProfile and dockerCredentialsPath. NUBLADO_<KEY> environment variables
(e.g. NUBLADO_LOG_LEVEL, NUBLADO_PRUNE as JSON) override the file. Docker
credentials come from -a, else dockerCredentialsPath, else
/etc/secrets/.dockerconfigjson if it exists; GAR uses Application Default
Credentials. Logs go to standard error.`

// NewCmdImages is the parent of the image administration commands.
func NewCmdImages(log *logrus.Logger) *cobra.Command {
	return newCmdImages(log, imagesDeps{
		environ:     os.Environ,
		isTerminal:  isTerminal,
		credentials: images.DefaultDockerCredentialsPath,
		now:         time.Now,
	})
}

func newCmdImages(log *logrus.Logger, deps imagesDeps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "images",
		Short: "Inspect and administer the lab-image repository",
		Long: `Inspect and administer the lab-image repository (a Docker registry or
Google Artifact Registry): list its tags in menu order, delete images by tag,
prune it by a retention policy, and parse tags the way the spawner menu reads
them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newCmdImagesList(log, deps), newCmdImagesDelete(log, deps), newCmdImagesPrune(log, deps), NewCmdImagesParse())
	return cmd
}

func (f *imagesFlags) bind(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "images config file (YAML, required)")
	fl.StringVarP(&f.credentials, "credentials", "a", "", "Docker credentials file (.dockerconfigjson format)")
	fl.BoolVarP(&f.debug, "debug", "d", false, "log at debug level (also env DEBUG)")
	_ = cmd.MarkFlagRequired("config") // the flag exists
}

func newCmdImagesList(log *logrus.Logger, deps imagesDeps) *cobra.Command {
	f := &imagesFlags{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the tags of the image repository",
		Long: `List every tag of the repository, one per line, in the order of the spawner
menu: releases, weeklies, dailies, release candidates, experimentals, then
other tags; newest first within a type, architecture-specific tags included.
Tags are read without alias knowledge, so "recommended" and the like come
last.` + imagesConfigHelp + imagesExitCodes,
		Example: `  nublado images list -c images.yaml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImages(cmd, log, deps, f, false, func(s imagesSession) error {
				tags, err := images.List(cmd.Context(), s.reg)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), strings.Join(tags, "\n"))
				return err
			})
		},
	}
	f.bind(cmd)
	return cmd
}

func newCmdImagesDelete(log *logrus.Logger, deps imagesDeps) *cobra.Command {
	f := &imagesFlags{}
	cmd := &cobra.Command{
		Use:   "delete [TAG...]",
		Short: "Delete the images behind tags",
		Long: `Delete the image (Docker manifest or GAR version) behind each tag, and so every
other tag on the same image. All digests are looked up first, then each image
is deleted once, in batches, with progress on standard error. A Docker tag
that does not exist fails the command before anything is deleted; GAR ignores
unknown tags. Prints nothing on standard output.` + imagesConfigHelp + imagesExitCodes,
		Example: `  nublado images delete -c images.yaml w_2021_22 w_2021_22-amd64`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImages(cmd, log, deps, f, false, func(s imagesSession) error {
				return images.Delete(cmd.Context(), s.reg, args, s.progress)
			})
		},
	}
	f.bind(cmd)
	return cmd
}

func newCmdImagesPrune(log *logrus.Logger, deps imagesDeps) *cobra.Command {
	f := &imagesFlags{}
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete the images that the prune policy does not keep",
		Long: `Apply the config's prune policy to every tag of the repository, inverted:
the tags it does not keep are deleted (aliases and unknown tags are always
kept, but deleting an image removes every tag on it). Prints "Deleted
images:" (or, with -n, "Would delete images:") and the tags, one per line
indented by two spaces. Deletions go in batches, with progress on standard
error: a bar when standard output is a terminal, plain lines otherwise. A
config without a prune policy is a usage error.` + imagesConfigHelp + imagesExitCodes,
		Example: `  nublado images prune -c images.yaml -n`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runImages(cmd, log, deps, f, true, func(s imagesSession) error {
				tags, err := images.Prune(cmd.Context(), s.reg, *s.cfg.Prune,
					images.PruneOptions{DryRun: dryRun, Now: deps.now(), Progress: s.progress})
				if err != nil {
					return err
				}
				head := "Deleted images:"
				if dryRun {
					head = "Would delete images:"
				}
				if len(tags) > 0 {
					head += "\n  " + strings.Join(tags, "\n  ")
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), head)
				return err
			})
		},
	}
	f.bind(cmd)
	cmd.Flags().BoolVarP(&dryRun, "dry-run", "n", false, "print what would be deleted, delete nothing")
	return cmd
}

// imagesSession is what a command body gets: the config, the registry and
// the progress reporter.
type imagesSession struct {
	cfg      *images.ToolConfig
	reg      images.Registry
	progress images.Progress
}

// runImages loads the config, checks the prune policy if needed,
// configures logging, connects to the registry and runs body. Failures
// after the command line was accepted exit with 1.
func runImages(cmd *cobra.Command, log *logrus.Logger, deps imagesDeps, f *imagesFlags, prune bool, body func(imagesSession) error) error {
	environ := deps.environ()
	cfg, err := images.LoadToolConfig(f.config, environ)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	if prune && cfg.Prune == nil {
		return newUsageError("No image prune filter defined in config")
	}
	debug, err := envBoolIn(environ, "DEBUG")
	if err != nil {
		return newUsageError("DEBUG: %v", err)
	}
	level := cfg.LogLevel
	if f.debug || debug {
		level = "DEBUG"
	}
	if err := configureLogger(log, cmd.ErrOrStderr(), cfg.LogProfile, level); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	entry := log.WithField("logger", "nublado")
	reg, closeReg, err := openRegistry(cmd, entry, deps, f, cfg)
	if err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	defer closeReg()
	progress := newProgress(cmd.ErrOrStderr(), deps.isTerminal(cmd.OutOrStdout()))
	if err := body(imagesSession{cfg: cfg, reg: reg, progress: progress}); err != nil {
		return &ExitError{Code: ExitFailure, Err: err}
	}
	return nil
}

// openRegistry returns the client of the configured source and a function
// that releases it.
func openRegistry(cmd *cobra.Command, log *logrus.Entry, deps imagesDeps, f *imagesFlags, cfg *images.ToolConfig) (images.Registry, func(), error) {
	if cfg.Docker != nil {
		creds, path, err := dockerCredentials(f.credentials, cfg.DockerCredentialsPath, deps.credentials)
		if err != nil {
			return nil, nil, err
		}
		log.WithFields(logrus.Fields{"registry": cfg.Docker.Registry, "repository": cfg.Docker.Repository,
			"credentials": path}).Debug("Using Docker registry")
		opts := append([]images.DockerOption{images.WithCredentials(creds)}, deps.docker...)
		c, err := images.NewDockerClient(*cfg.Docker, opts...)
		return c, func() {}, err
	}
	log.WithField("parent", cfg.GAR.Parent()).Debug("Using Google Artifact Registry")
	retry := images.WithRetryHook(func(attempt int, err error) {
		log.WithError(err).WithField("attempt", attempt).Warn("Error listing images from GAR, retrying")
	})
	c, err := images.NewGARClient(cmd.Context(), *cfg.GAR, append([]images.GAROption{retry}, deps.gar...)...)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { _ = c.Close() }, nil
}

// dockerCredentials loads the first of the -a file, the config's file and
// the default file (only if it is a regular file); none is anonymous.
func dockerCredentials(flag, configured, fallback string) (*images.DockerCredentials, string, error) {
	path := cmp.Or(flag, configured)
	if path == "" {
		if st, err := os.Stat(fallback); err != nil || !st.Mode().IsRegular() {
			return nil, "", nil
		}
		path = fallback
	}
	creds, err := images.LoadDockerCredentials(path)
	return creds, path, err
}

// envBoolIn reads a boolean from environ (KEY=VALUE); unset or empty is
// false.
func envBoolIn(environ []string, name string) (bool, error) {
	i := slices.IndexFunc(environ, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	if i < 0 {
		return false, nil
	}
	v := strings.TrimPrefix(environ[i], name+"=")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return false, nil
	case "1", "true", "t", "yes", "y", "on":
		return true, nil
	case "0", "false", "f", "no", "n", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressWidth is the width of the progress bar's track.
const progressWidth = 30

// newProgress reports deletions on w: a bar redrawn in place when bar is
// set (standard output is a terminal), plain lines otherwise.
func newProgress(w io.Writer, bar bool) images.Progress {
	return func(done, total int) {
		if !bar {
			if done == 0 {
				fmt.Fprintf(w, "Deleting %d images\n", total)
			} else {
				fmt.Fprintf(w, "Deleted %d of %d images\n", done, total)
			}
			return
		}
		filled := progressWidth * done / max(total, 1)
		fmt.Fprintf(w, "\rDeleting images [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(" ", progressWidth-filled), done, total)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
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
