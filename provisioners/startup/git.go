package startup

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// gitTimeout bounds `git lfs install`.
const gitTimeout = time.Minute

// installGitLFS runs `git lfs install` unless ~/.gitconfig already has the
// LFS filter. git is looked up on the PATH of the environment and runs with
// HOME set to the user's home, so that it writes the user's ~/.gitconfig.
// A failing or timed-out command is logged and ignored; a missing git is an
// error (ENOENT on "git").
func (p *preparer) installGitLFS(ctx context.Context) error {
	configured, err := hasLFSFilter(filepath.Join(p.home, ".gitconfig"))
	if err != nil || configured {
		return err
	}
	git, err := lookPath("git", p.env["PATH"])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, git, "lfs", "install")
	cmd.Env = p.childEnv()
	out, err := cmd.CombinedOutput()
	log := p.log.WithField("output", string(bytes.TrimSpace(out)))
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		log.WithError(err).Warn("'git lfs install' failed")
		return nil
	case err != nil:
		return err
	}
	log.Debug("Ran 'git lfs install'")
	return nil
}

// hasLFSFilter reports whether the git configuration file has a
// `[filter "lfs"]` line. A missing file has none.
func hasLFSFilter(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == `[filter "lfs"]` {
			return true, nil
		}
	}
	return false, nil
}

// lookPath finds the executable name in the directories of path (a PATH
// value), as a shell would.
func lookPath(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		f := filepath.Join(dir, name)
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return f, nil
		}
	}
	return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
}

// childEnv is the environment of subprocesses: the process environment with
// HOME set to the user's home.
func (p *preparer) childEnv() []string {
	env := make([]string, 0, len(p.env)+1)
	for k, v := range p.env {
		if k != "HOME" {
			env = append(env, k+"="+v)
		}
	}
	sort.Strings(env)
	return append(env, "HOME="+p.home)
}
