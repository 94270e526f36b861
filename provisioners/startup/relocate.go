package startup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// relocatedDirs are the dot-directories of the home that RESET_USER_ENV
// moves aside, in order.
var relocatedDirs = []string{"cache", "conda", "config", "eups", "local", "jupyter"}

// relocateUserEnv moves the user's environment out of the way (§5.4):
// ~/.<name> becomes ~/.user_env.<UTC timestamp>/<name>, and
// ~/notebooks/.user_setups becomes ~/.user_env.<ts>/notebooks/user_setups.
func (p *preparer) relocateUserEnv() error {
	target := filepath.Join(p.home, ".user_env."+p.opts.Now().UTC().Format("20060102150405"))
	p.log.WithField("path", target).Info("Relocating user environment")
	for _, name := range relocatedDirs {
		src := filepath.Join(p.home, "."+name)
		if !isDir(src) {
			continue
		}
		if err := os.MkdirAll(target, 0o777); err != nil {
			return err
		}
		if err := os.Rename(src, filepath.Join(target, name)); err != nil {
			return err
		}
	}
	setups := filepath.Join(p.home, "notebooks", ".user_setups")
	if !isRegular(setups) {
		return nil
	}
	// The original creates only the last level here and fails when no
	// dot-directory was moved; creating the parents too is the fix.
	if err := os.MkdirAll(filepath.Join(target, "notebooks"), 0o777); err != nil {
		return err
	}
	return os.Rename(setups, filepath.Join(target, "notebooks", "user_setups"))
}

// isDir reports whether path is a directory, following symlinks.
func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// isRegular reports whether path is a regular file, following symlinks.
func isRegular(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// exists reports whether anything (even a dangling symlink) is at path.
func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}
