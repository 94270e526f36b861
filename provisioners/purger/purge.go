package purger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"
)

// Result is what a purge did.
type Result struct {
	// Deleted are the files unlinked.
	Deleted []string
	// Removed are the empty directories removed, deepest first.
	Removed []string
	// Skipped are planned files that had vanished, been replaced or changed
	// (see [FileID]) since the plan was made; they were left alone.
	Skipped []string
}

// Purge deletes the planned files and then every empty directory beneath the
// plan's directories (deepest first, so a directory emptied by the removal of
// its children goes in the same run), except the policy directories and their
// ancestors. It touches nothing outside the plan's directories: every path is
// reached from its root through directory descriptors without following
// symlinks, and a file is deleted only if its [FileID] is unchanged. A nil
// plan is [ErrPlanNotReady]. Failures are collected and returned together as
// a *[PurgeError] after everything else was done; only the context's error
// stops a purge early.
func Purge(ctx context.Context, plan *Plan) (*Result, error) {
	if plan == nil {
		return nil, fmt.Errorf("cannot purge: %w", ErrPlanNotReady)
	}
	p := &purge{plan: plan, roots: make(map[string]bool), res: &Result{}}
	for _, d := range plan.Directories {
		p.roots[filepath.Clean(d)] = true
	}
	for _, f := range plan.Files {
		if err := ctx.Err(); err != nil {
			return p.res, err
		}
		p.file(f)
	}
	p.cache.close()
	if err := p.tidy(ctx); err != nil {
		return p.res, err
	}
	if p.errs.ErrorOrNil() != nil {
		return p.res, &PurgeError{Failed: p.errs}
	}
	return p.res, nil
}

type purge struct {
	plan  *Plan
	roots map[string]bool
	res   *Result
	errs  *multierror.Error
	cache dirCache
}

func (p *purge) fail(err error) { p.errs = multierror.Append(p.errs, err) }

// file deletes one planned file.
func (p *purge) file(f File) {
	rel, err := p.beneath(f.Root, f.Path)
	if err != nil {
		p.fail(&fs.PathError{Op: "unlink", Path: f.Path, Err: err})
		return
	}
	d, err := p.cache.open(f.Root, filepath.Dir(rel))
	if err != nil {
		p.unreachable(f.Path, err)
		return
	}
	name := filepath.Base(rel)
	st, err := d.lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.res.Skipped = append(p.res.Skipped, f.Path)
		return
	case err != nil:
		p.fail(err)
		return
	case fileID(&st) != f.ID || st.Mode&unix.S_IFMT == unix.S_IFDIR:
		p.res.Skipped = append(p.res.Skipped, f.Path)
		return
	}
	switch err := d.unlink(name); {
	case errors.Is(err, fs.ErrNotExist):
		p.res.Skipped = append(p.res.Skipped, f.Path)
	case err != nil:
		p.fail(err)
	default:
		p.res.Deleted = append(p.res.Deleted, f.Path)
	}
}

// unreachable records that the directory of path could not be opened: gone
// is fine, a symlink or file in the way is refused, anything else fails.
func (p *purge) unreachable(path string, err error) {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.res.Skipped = append(p.res.Skipped, path)
	case errors.As(err, &pe) && changed(pe.Err):
		p.fail(&fs.PathError{Op: "open", Path: pe.Path, Err: ErrUnsafePath})
	default:
		p.fail(err)
	}
}

// beneath returns path relative to root, refusing roots that are not plan
// directories and paths that are not strictly beneath their root.
func (p *purge) beneath(root, path string) (string, error) {
	root = filepath.Clean(root)
	if !p.roots[root] || !filepath.IsAbs(path) {
		return "", ErrUnsafePath
	}
	rel, err := filepath.Rel(root, filepath.Clean(path))
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", ErrUnsafePath
	}
	return rel, nil
}

// dirCache keeps the last directory opened beneath a root, since planned
// files come grouped by directory.
type dirCache struct {
	root, rel string
	d         *dir
}

// open opens root/rel, following no symlink below root.
func (c *dirCache) open(root, rel string) (*dir, error) {
	if c.d != nil && c.root == root && c.rel == rel {
		return c.d, nil
	}
	c.close()
	d, err := openBeneath(root, rel)
	if err != nil {
		return nil, err
	}
	c.root, c.rel, c.d = root, rel, d
	return d, nil
}

func (c *dirCache) close() {
	if c.d != nil {
		c.d.close()
		c.d = nil
	}
}

// openBeneath opens root, then each component of rel with O_NOFOLLOW.
func openBeneath(root, rel string) (*dir, error) {
	d, err := openRoot(root)
	if err != nil {
		return nil, err
	}
	if rel == "." || rel == "" {
		return d, nil
	}
	for _, name := range strings.Split(rel, string(os.PathSeparator)) {
		sub, err := d.child(name)
		d.close()
		if err != nil {
			return nil, err
		}
		d = sub
	}
	return d, nil
}
