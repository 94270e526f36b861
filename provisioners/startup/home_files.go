package startup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// stockLoggingProfiles are the SHA-256 sums of previous stock versions of
// 20-logging.py: a user's copy equal to one of them is replaced by the
// current version; any other content is a local edit and is kept.
var stockLoggingProfiles = []string{
	"2997fe99eb12846a1b724f0b82b9e5e6acbd1d4c29ceb9c9ae8f1ef5503892ec",
}

// copyFiles fills the home directory (§5.7). The first error ends it.
//
// The /etc/skel mirror runs before `git lfs install`, unlike Nublado: there a
// real `git lfs install` on a fresh home wrote ~/.gitconfig first, so the
// site's skeleton .gitconfig was never copied. Now the skeleton file lands
// first and git-lfs adds its filter section to it.
func (p *preparer) copyFiles(ctx context.Context) error {
	steps := []func() error{
		p.mergeCredentials,
		p.setupDask,
		p.mirrorSkel,
		func() error { return p.installGitLFS(ctx) },
		p.copyLoggingProfile,
		p.copyDircolors,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// copyLoggingProfile installs the stock IPython logging profile unless the
// user changed theirs.
func (p *preparer) copyLoggingProfile() error {
	cfgDir := p.env["JUPYTERLAB_CONFIG_DIR"]
	if cfgDir == "" {
		cfgDir = p.opts.JupyterLabConfigDir
	}
	var src []byte
	for _, path := range []string{
		filepath.Join(cfgDir, "etc", "20-logging.py"),
		filepath.Join(cfgDir, "20-logging.py"),
	} {
		data, err := os.ReadFile(path)
		if err == nil {
			src = data
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if src == nil {
		p.log.WithField("path", cfgDir).Warn("No 20-logging.py found; not installing the IPython logging profile")
		return nil
	}
	dst := filepath.Join(p.home, ".ipython", "profile_default", "startup", "20-logging.py")
	cur, err := os.ReadFile(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case bytes.Equal(cur, src):
		return nil
	default:
		sum := sha256.Sum256(cur)
		if !slices.Contains(stockLoggingProfiles, hex.EncodeToString(sum[:])) {
			p.log.WithField("path", dst).Debug("Keeping locally modified IPython logging profile")
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
		return err
	}
	return os.WriteFile(dst, src, 0o666)
}

// copyDircolors installs ~/.dir_colors if there is none.
func (p *preparer) copyDircolors() error {
	dst := filepath.Join(p.home, ".dir_colors")
	if there, err := exists(dst); err != nil || there {
		return err
	}
	data, err := os.ReadFile(p.opts.DircolorsFile)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o666)
}

// mirrorSkel copies every file of the skeleton directory whose destination
// does not exist, creating missing directories. Nothing that exists is
// touched. Unreadable subdirectories of the skeleton are logged and skipped.
func (p *preparer) mirrorSkel() error {
	root := p.opts.SkelDir
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			p.log.WithError(err).WithField("path", path).Warn("Cannot read skeleton directory")
			return fs.SkipDir
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		return p.mirrorSkelEntry(path, filepath.Join(p.home, rel), d)
	})
}

func (p *preparer) mirrorSkelEntry(src, dst string, d fs.DirEntry) error {
	if there, err := exists(dst); err != nil || there {
		return err
	}
	isDir := d.IsDir()
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(src)
		if err != nil {
			p.log.WithError(err).WithField("path", src).Warn("Skipping dangling skeleton symlink")
			return nil
		}
		isDir = fi.IsDir()
	}
	if isDir {
		return os.Mkdir(dst, 0o777)
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, 0o666)
}
