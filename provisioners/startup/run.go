package startup

import (
	"context"
	"path/filepath"
	"strconv"

	"github.com/sirupsen/logrus"
)

// Result is what a run decided.
type Result struct {
	// Env is the content of env.json: only the variables the preparer set.
	Env map[string]string
	// Args is the content of args.json: the lab's command line.
	Args []string
	// Abnormal is the last error that made the startup abnormal, nil for a
	// normal startup.
	Abnormal *StartupError
}

// preparer holds the state of one run.
type preparer struct {
	opts     Options
	env      map[string]string // the process environment (input, never written)
	log      *logrus.Entry
	debug    bool
	home     string
	out      map[string]string // the decided variables (env.json)
	abnormal *StartupError
}

// Run prepares the lab of the user whose environment is env (the init
// container's environment: NUBLADO_HOME, SCRATCH_PATH, CPU_LIMIT, …) and
// writes env.json and args.json into opts.StartupDir.
//
// Failures of the preparation steps never make Run fail: they make the
// startup abnormal (see the package documentation) and are reported in
// Result.Abnormal and logged. The returned error is non-nil only when the
// startup files could not be written; the Result is returned in every case.
// ctx bounds the discovery request and the git subprocess.
func Run(ctx context.Context, opts Options, env map[string]string, log *logrus.Entry) (*Result, error) {
	p := newPreparer(opts, env, log)
	p.prepare(ctx)
	return p.finish()
}

// newPreparer reads the home directory and debug flag (§5.2).
func newPreparer(opts Options, env map[string]string, log *logrus.Entry) *preparer {
	p := &preparer{
		opts:  opts.withDefaults(),
		env:   env,
		log:   log,
		debug: env["DEBUG"] != "",
		out:   map[string]string{},
	}
	p.home = env["NUBLADO_HOME"]
	if p.home == "" {
		p.setAbnormal(missingEnv("NUBLADO_HOME"))
		p.home = p.opts.TmpDir
	}
	p.out["HOME"] = p.home
	return p
}

// prepare runs the guarded blocks of §5.3. An error ends its block and makes
// the startup abnormal; the copy block runs only while the startup is normal.
func (p *preparer) prepare(ctx context.Context) {
	p.guard(func() error {
		if p.env["RESET_USER_ENV"] != "" {
			if err := p.relocateUserEnv(); err != nil {
				return err
			}
		}
		if filepath.Clean(p.home) == filepath.Clean(p.opts.TmpDir) {
			return missingEnv("USER")
		}
		p.configureEnv(ctx)
		return nil
	})
	p.guard(p.tidyHome)
	if p.abnormal != nil {
		return
	}
	p.guard(func() error {
		if err := p.copyFiles(ctx); err != nil {
			return err
		}
		return p.interactiveSettings()
	})
}

// guard runs step and turns its error into an abnormal startup.
func (p *preparer) guard(step func() error) {
	if err := step(); err != nil {
		p.setAbnormal(err)
	}
}

// setAbnormal records err as the reason of an abnormal startup; a later error
// replaces an earlier one.
func (p *preparer) setAbnormal(err error) {
	se := AsStartupError(err)
	p.abnormal = se
	p.out["ABNORMAL_STARTUP"] = "TRUE"
	p.out["ABNORMAL_STARTUP_ERRNO"] = strconv.Itoa(se.Errno)
	p.out["ABNORMAL_STARTUP_ERRORCODE"] = se.Code
	p.out["ABNORMAL_STARTUP_STRERROR"] = se.Strerror
	p.out["ABNORMAL_STARTUP_MESSAGE"] = se.Error()
	p.log.WithFields(logrus.Fields{
		"errno":         se.Errno,
		"errorcode":     se.Code,
		logrus.ErrorKey: se.Error(),
	}).Error("Abnormal RSP startup set with exception")
}
