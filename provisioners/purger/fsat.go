package purger

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The purger touches the file system only through directory file descriptors:
// a configured root is opened by path (it may itself be a symlink, set by the
// operator), and everything beneath it is reached with openat(2) and
// O_NOFOLLOW, fstatat(2) with AT_SYMLINK_NOFOLLOW and unlinkat(2). A symlink
// anywhere below a root is therefore never followed, and a directory swapped
// for a symlink between planning and purging cannot lead outside the tree.

// dir is an open directory.
type dir struct {
	f    *os.File
	fd   int
	path string
}

// openRoot opens a configured directory by path.
func openRoot(path string) (*dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return newDir(fd, path), nil
}

func newDir(fd int, path string) *dir {
	return &dir{f: os.NewFile(uintptr(fd), path), fd: fd, path: path}
}

// child opens the subdirectory name of d without following a symlink.
func (d *dir) child(name string) (*dir, error) {
	p := d.join(name)
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return newDir(fd, p), nil
}

func (d *dir) close() { _ = d.f.Close() }

// names lists the entries of d (unsorted).
func (d *dir) names() ([]string, error) {
	return d.f.Readdirnames(-1)
}

// entries lists the entries of d with their types (unsorted).
func (d *dir) entries() ([]os.DirEntry, error) {
	return d.f.ReadDir(-1)
}

// empty reports whether d has no entries at all (dotfiles count).
func (d *dir) empty() (bool, error) {
	names, err := d.f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return len(names) == 0, err
}

// lstat stats the entry name of d without following a symlink.
func (d *dir) lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		return st, &fs.PathError{Op: "lstat", Path: d.join(name), Err: err}
	}
	return st, nil
}

// unlink removes the non-directory entry name of d (a symlink itself, never
// its target).
func (d *dir) unlink(name string) error {
	if err := unix.Unlinkat(d.fd, name, 0); err != nil {
		return &fs.PathError{Op: "unlink", Path: d.join(name), Err: err}
	}
	return nil
}

// rmdir removes the empty subdirectory name of d.
func (d *dir) rmdir(name string) error {
	if err := unix.Unlinkat(d.fd, name, unix.AT_REMOVEDIR); err != nil {
		return &fs.PathError{Op: "rmdir", Path: d.join(name), Err: err}
	}
	return nil
}

// fileID identifies st's inode and its last change.
func fileID(st *unix.Stat_t) FileID {
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Ctime: st.Ctim.Nano()} //nolint:unconvert // widths differ by platform
}

func timespec(ts unix.Timespec) time.Time {
	sec, nsec := ts.Unix()
	return time.Unix(sec, nsec).UTC()
}

// changed reports errors that mean an entry vanished or was replaced by
// something of another kind (a symlink where a directory was) since it was
// listed: races with users, not failures.
func changed(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)
}

// join returns the path of d's entry name.
func (d *dir) join(name string) string {
	if strings.HasSuffix(d.path, string(os.PathSeparator)) {
		return d.path + name
	}
	return d.path + string(os.PathSeparator) + name
}
