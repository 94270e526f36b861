package purger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sys/unix"
)

// ErrUnsafePath is wrapped by the errors for planned paths that purging
// refuses: a path outside its policy directory, a root that is not one of the
// plan's directories, or a path that now passes through a symlink.
var ErrUnsafePath = errors.New("refusing path outside the configured directory or through a symlink")

// Result is what a purge did.
type Result struct {
	// Deleted are the files unlinked.
	Deleted []string
	// Removed are the empty directories removed, deepest first.
	Removed []string
	// Skipped are planned files that had vanished, or had been replaced by
	// another file, since the plan was made; they were left alone.
	Skipped []string
}

// PurgeError collects the failures of a purge (and, from [Run], of the plan
// before it). The purge went on past each of them.
type PurgeError struct {
	// Failed holds one error per path, each an *fs.PathError.
	Failed *multierror.Error
}

func (e *PurgeError) Error() string {
	return "purge encountered errors: " + failedList(e.Failed)
}

// Unwrap returns the collected errors.
func (e *PurgeError) Unwrap() []error { return e.Failed.WrappedErrors() }

// FailedFiles maps each failed path to its error text.
func (e *PurgeError) FailedFiles() map[string]string { return failedFiles(e.Failed) }

// Purge deletes the planned files and then every empty directory beneath the
// plan's directories (deepest first, so a directory emptied by the removal of
// its children goes in the same run), except the policy directories and their
// ancestors. It touches nothing outside the plan's directories: every path is
// reached from its root through directory descriptors without following
// symlinks, and a file is deleted only if it is still the inode that was
// planned. A nil plan is [ErrPlanNotReady]. Failures are collected and
// returned together as a *[PurgeError] after everything else was done; only
// the context's error stops a purge early.
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

// candidate is a directory the tidy may remove.
type candidate struct {
	root, rel string
	depth     int
}

// tidy removes the empty directories beneath the plan's directories.
func (p *purge) tidy(ctx context.Context) error {
	keep := make(map[string]bool)
	for r := range p.roots {
		for a := r; ; a = filepath.Dir(a) {
			keep[a] = true
			if a == filepath.Dir(a) {
				break
			}
		}
	}
	var cands []candidate
	for _, root := range p.plan.Directories {
		root = filepath.Clean(root)
		found, err := p.subdirs(ctx, root)
		if err != nil {
			return err
		}
		for _, rel := range found {
			if abs := filepath.Join(root, rel); !keep[abs] {
				cands = append(cands, candidate{root, rel, strings.Count(abs, string(filepath.Separator))})
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].depth != cands[j].depth {
			return cands[i].depth > cands[j].depth
		}
		return filepath.Join(cands[i].root, cands[i].rel) > filepath.Join(cands[j].root, cands[j].rel)
	})
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.rmdirIfEmpty(c)
	}
	return nil
}

// subdirs lists every directory beneath root (relative paths), without
// following symlinks and without entering other policy directories, which are
// tidied from their own root.
func (p *purge) subdirs(ctx context.Context, root string) ([]string, error) {
	d, err := openRoot(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			p.fail(err)
		}
		return nil, nil
	}
	var out []string
	err = p.collect(ctx, d, "", &out)
	return out, err
}

func (p *purge) collect(ctx context.Context, d *dir, rel string, out *[]string) error {
	defer d.close()
	if err := ctx.Err(); err != nil {
		return err
	}
	ents, err := d.entries()
	if err != nil {
		p.fail(&fs.PathError{Op: "readdir", Path: d.path, Err: unwrapPathError(err)})
	}
	for _, e := range ents {
		if !e.IsDir() || p.roots[d.path+string(filepath.Separator)+e.Name()] {
			continue
		}
		sub, err := d.child(e.Name())
		if err != nil {
			var pe *fs.PathError
			if !errors.As(err, &pe) || !changed(pe.Err) {
				p.fail(err)
			}
			continue
		}
		subRel := filepath.Join(rel, e.Name())
		*out = append(*out, subRel)
		if err := p.collect(ctx, sub, subRel, out); err != nil {
			return err
		}
	}
	return nil
}

// rmdirIfEmpty removes the candidate if it has no entries at all.
func (p *purge) rmdirIfEmpty(c candidate) {
	path := filepath.Join(c.root, c.rel)
	parent, err := p.cache.open(c.root, filepath.Dir(c.rel))
	if err != nil {
		p.unreachable(path, err)
		return
	}
	name := filepath.Base(c.rel)
	d, err := parent.child(name)
	if err != nil {
		p.unreachable(path, err)
		return
	}
	empty, err := d.empty()
	d.close()
	if err != nil {
		p.fail(&fs.PathError{Op: "readdir", Path: path, Err: unwrapPathError(err)})
		return
	}
	if !empty {
		return
	}
	switch err := parent.rmdir(name); {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		p.fail(err)
	default:
		p.res.Removed = append(p.res.Removed, path)
	}
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

// failedFiles maps each failed path to its error text.
func failedFiles(m *multierror.Error) map[string]string {
	out := make(map[string]string)
	for _, err := range m.WrappedErrors() {
		path, msg := splitPathError(err)
		out[path] = msg
	}
	return out
}

// failedList formats the failures as "path: err, path2: err2".
func failedList(m *multierror.Error) string {
	parts := make([]string, 0, m.Len())
	for _, err := range m.WrappedErrors() {
		path, msg := splitPathError(err)
		parts = append(parts, path+": "+msg)
	}
	return strings.Join(parts, ", ")
}

func splitPathError(err error) (string, string) {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Path, pe.Op + ": " + pe.Err.Error()
	}
	return "", err.Error()
}
