package landingpage

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Environment variables read by [OptionsFromEnv], and their defaults.
const (
	EnvHome      = "NUBLADO_HOME"
	EnvSourceDir = "CST_LANDING_PAGE_SRC_DIR"
	EnvTargetDir = "CST_LANDING_PAGE_TGT_DIR"
	EnvFiles     = "CST_LANDING_PAGE_FILES"
	EnvDebug     = "DEBUG"

	DefaultHome      = "/nonexistent"
	DefaultSourceDir = "/rubin/cst_repos/tutorial-notebooks-data/welcome"
	DefaultTargetDir = "notebooks/tutorials"
	DefaultFiles     = "welcome.md,logo_for_header.png"
)

// SettingsPath is the JupyterLab document-manager settings file, relative to
// the home directory.
const SettingsPath = ".jupyter/lab/user-settings/@jupyterlab/docmanager-extension/plugin.jupyterlab-settings"

// MarkdownViewer is the default Markdown viewer set in the settings.
const MarkdownViewer = "Markdown Preview"

// Options are the inputs of [Provision].
type Options struct {
	// Home is the user's home directory; it must exist.
	Home string
	// SourceDir holds the landing-page files.
	SourceDir string
	// TargetDir receives them; a relative path is taken relative to Home.
	TargetDir string
	// Files are the names of the files to copy, relative to SourceDir; each is
	// copied to TargetDir under its base name.
	Files []string
	// Debug is set by a non-empty DEBUG variable.
	Debug bool
}

// OptionsFromEnv reads the options through getenv (os.Getenv in production).
// Unset or empty variables take their defaults. The file list is split on
// commas, without trimming.
func OptionsFromEnv(getenv func(string) string) Options {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	return Options{
		Home:      get(EnvHome, DefaultHome),
		SourceDir: get(EnvSourceDir, DefaultSourceDir),
		TargetDir: get(EnvTargetDir, DefaultTargetDir),
		Files:     strings.Split(get(EnvFiles, DefaultFiles), ","),
		Debug:     getenv(EnvDebug) != "",
	}
}

// PrecheckError is an input that is not there: a source file that is not a
// regular file, or a home that is not a directory. Nothing was changed.
type PrecheckError struct {
	// Path is the offending path.
	Path string
	// Reason is "is not a file" or "is not a directory".
	Reason string
}

func (e *PrecheckError) Error() string {
	what := "Source file"
	if e.Reason == "is not a directory" {
		what = "Home directory"
	}
	return fmt.Sprintf("%s %s %s", what, e.Path, e.Reason)
}

// DestinationIsDirectoryError is a directory where a landing-page file goes.
type DestinationIsDirectoryError struct {
	// Path is the destination.
	Path string
}

func (e *DestinationIsDirectoryError) Error() string {
	return fmt.Sprintf("destination %s is a directory", e.Path)
}

// DestinationError is something other than a file, symlink or directory (a
// FIFO, socket or device) where a landing-page file goes.
type DestinationError struct {
	// Path is the destination.
	Path string
	// Mode is its type.
	Mode fs.FileMode
}

func (e *DestinationError) Error() string {
	return fmt.Sprintf("destination %s is neither a file nor a directory (%s)", e.Path, e.Mode.Type())
}

// Result says what [Provision] did.
type Result struct {
	// Copied are the destination paths written.
	Copied []string
	// SettingsWritten is true when the settings file was (re)written.
	SettingsWritten bool
}

// Provision installs the landing page:
//
//  1. Precheck: every source file must be a regular file (following
//     symlinks) and Home a directory, else *[PrecheckError].
//  2. The target directory is created with its parents (mode 0755 for the
//     target itself, subject to the umask).
//  3. Each file replaces its destination: an existing file or symlink (even
//     dangling) there is removed first; a directory is
//     *[DestinationIsDirectoryError], anything else *[DestinationError].
//     Contents and permission bits are copied, not owner or timestamps.
//  4. The JupyterLab settings file ([SettingsPath]) gets
//     defaultViewers.markdown = "Markdown Preview" unless it has a value
//     already; it must be valid JSON if it exists.
//
// Provision stops at the first error.
func Provision(opts Options) (*Result, error) {
	if err := precheck(opts); err != nil {
		return nil, err
	}
	target := opts.TargetDir
	if !filepath.IsAbs(target) {
		target = filepath.Join(opts.Home, target)
	}
	if err := mkdirLeaf(target, 0o755); err != nil {
		return nil, fmt.Errorf("creating landing page directory: %w", err)
	}
	res := &Result{}
	for _, name := range opts.Files {
		dst := filepath.Join(target, filepath.Base(name))
		if err := install(filepath.Join(opts.SourceDir, name), dst); err != nil {
			return res, err
		}
		res.Copied = append(res.Copied, dst)
	}
	written, err := setMarkdownViewer(filepath.Join(opts.Home, SettingsPath))
	res.SettingsWritten = written
	return res, err
}

func precheck(opts Options) error {
	for _, name := range opts.Files {
		src := filepath.Join(opts.SourceDir, name)
		if fi, err := os.Stat(src); err != nil || !fi.Mode().IsRegular() {
			return &PrecheckError{Path: src, Reason: "is not a file"}
		}
	}
	if fi, err := os.Stat(opts.Home); err != nil || !fi.IsDir() {
		return &PrecheckError{Path: opts.Home, Reason: "is not a directory"}
	}
	return nil
}

// mkdirLeaf creates dir's missing parents with mode 0777 and dir itself with
// mode perm (both subject to the umask); an existing directory is fine.
func mkdirLeaf(dir string, perm fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o777); err != nil {
		return err
	}
	err := os.Mkdir(dir, perm)
	if errors.Is(err, fs.ErrExist) {
		if fi, serr := os.Stat(dir); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// install replaces dst by a copy of src.
func install(src, dst string) error {
	fi, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("checking destination: %w", err)
	case fi.IsDir():
		return &DestinationIsDirectoryError{Path: dst}
	case fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0:
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("removing old landing page file: %w", err)
		}
	default:
		return &DestinationError{Path: dst, Mode: fi.Mode()}
	}
	return copyFile(src, dst)
}

// copyFile copies src's contents and permission bits to a new file dst.
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copying landing page file: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("copying landing page file: %w", err)
	}
	// O_EXCL: never write through a symlink that appeared since the removal.
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("copying landing page file: %w", err)
	}
	defer func() {
		if cerr := out.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("copying landing page file: %w", cerr)
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return fmt.Errorf("copying landing page file %s: %w", src, err)
	}
	if err := out.Chmod(permBits(fi)); err != nil {
		return fmt.Errorf("copying landing page file mode: %w", err)
	}
	return nil
}

// permBits are the permission bits of fi, with setuid, setgid and sticky.
func permBits(fi fs.FileInfo) fs.FileMode {
	m := fi.Mode()
	out := m.Perm()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if st.Mode&syscall.S_ISUID != 0 {
			out |= fs.ModeSetuid
		}
		if st.Mode&syscall.S_ISGID != 0 {
			out |= fs.ModeSetgid
		}
		if st.Mode&syscall.S_ISVTX != 0 {
			out |= fs.ModeSticky
		}
	}
	return out
}
