package purger

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
)

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
		if !e.IsDir() || p.roots[d.join(e.Name())] {
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
