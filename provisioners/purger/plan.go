package purger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Class is a file's size class.
type Class int

// Size classes: Large is size >= the policy's threshold.
const (
	Small Class = iota
	Large
)

func (c Class) String() string {
	if c == Large {
		return "LARGE"
	}
	return "SMALL"
}

// Criterion is the timestamp that made a file due.
type Criterion int

// Criteria, in the order they are checked.
const (
	ATime Criterion = iota // last access
	CTime                  // last inode change (the policy's "creation")
	MTime                  // last modification
)

func (c Criterion) String() string {
	return [...]string{"ATIME", "CTIME", "MTIME"}[c]
}

// FileID identifies a file as it was when planned: its inode and the time of
// its last inode change. Purging deletes a planned path only if it still has
// the same FileID: a file that was replaced (inode numbers are reused at
// once) or changed (written, renamed, chmod-ed) since planning is left alone.
type FileID struct {
	Dev, Ino uint64
	// Ctime is the inode change time in nanoseconds since the epoch.
	Ctime int64
}

// File is one planned deletion.
type File struct {
	// Path is the file's absolute path.
	Path string
	// Root is the policy directory whose rules matched; Path lies beneath it.
	Root string
	// ID is the file's inode at planning time.
	ID FileID
	// Class is the file's size class.
	Class Class
	// Reason is the first criterion that matched.
	Reason Criterion
	// FileInterval is the plan time minus the file's Reason timestamp.
	FileInterval time.Duration
	// CriterionInterval is the policy's limit for Reason.
	CriterionInterval time.Duration
}

// String formats the record as "{path}: {criterion} {n}s >= {m}s".
func (f File) String() string {
	return fmt.Sprintf("%s: %s %ds >= %ds", f.Path, f.Reason,
		int64(f.FileInterval/time.Second), int64(f.CriterionInterval/time.Second))
}

// Plan is what a purge would delete.
type Plan struct {
	// When is the time the plan was made for (now, plus any future duration).
	When time.Time
	// Directories are the policy directories, shortest path first.
	Directories []string
	// Files are the files due, in discovery order (each directory's files
	// before its subdirectories', entries sorted by name).
	Files []File
	// Missing are the files and policy directories that were listed but had
	// vanished when looked at: skipped, not errors.
	Missing []string
	// Errors are the entries that could not be examined (for example a
	// permission error on stat or on opening a directory), as *fs.PathError.
	// Planning goes on past them.
	Errors []error
}

// MakePlan walks every policy directory and lists the files that are due at
// when. A directory nested in another policy directory is planned by its own
// policy only. Symlinks are never followed nor planned. The only error is the
// context's.
func MakePlan(ctx context.Context, p *Policy, when time.Time) (*Plan, error) {
	dirs := orderedDirectories(p)
	plan := &Plan{When: when, Directories: make([]string, 0, len(dirs))}
	done := make(map[string]bool, len(dirs))
	for i := len(dirs) - 1; i >= 0; i-- {
		w := &planWalk{plan: plan, policy: dirs[i], done: done}
		if err := w.root(ctx); err != nil {
			return nil, err
		}
		done[dirs[i].Path] = true
	}
	for _, d := range dirs {
		plan.Directories = append(plan.Directories, d.Path)
	}
	return plan, nil
}

// orderedDirectories returns the policy entries, one per path (the first
// entry for a path wins), sorted by path length ascending (stable).
func orderedDirectories(p *Policy) []DirectoryPolicy {
	seen := make(map[string]bool)
	var dirs []DirectoryPolicy
	if p == nil {
		return dirs
	}
	for _, d := range p.Directories {
		d.Path = filepath.Clean(d.Path)
		if !seen[d.Path] {
			seen[d.Path] = true
			dirs = append(dirs, d)
		}
	}
	sort.SliceStable(dirs, func(i, j int) bool { return len(dirs[i].Path) < len(dirs[j].Path) })
	return dirs
}

// planWalk plans one policy directory.
type planWalk struct {
	plan   *Plan
	policy DirectoryPolicy
	done   map[string]bool // policy directories already planned
}

func (w *planWalk) root(ctx context.Context) error {
	d, err := openRoot(w.policy.Path)
	if err != nil {
		w.problem(err)
		return nil
	}
	return w.walk(ctx, d)
}

// walk checks d's files, then walks its subdirectories; it closes d.
func (w *planWalk) walk(ctx context.Context, d *dir) error {
	if err := ctx.Err(); err != nil {
		d.close()
		return err
	}
	subdirs := w.files(d)
	for _, name := range subdirs {
		if w.done[d.join(name)] {
			continue // planned by its own policy
		}
		sub, err := d.child(name)
		if err != nil {
			w.problem(err)
			continue
		}
		if err := w.walk(ctx, sub); err != nil {
			d.close()
			return err
		}
	}
	d.close()
	return nil
}

// files checks every non-directory entry of d and returns the names of its
// subdirectories, sorted.
func (w *planWalk) files(d *dir) []string {
	names, err := d.names()
	if err != nil {
		w.problem(&fs.PathError{Op: "readdir", Path: d.path, Err: unwrapPathError(err)})
	}
	sort.Strings(names)
	var subdirs []string
	for _, name := range names {
		st, err := d.lstat(name)
		if err != nil {
			w.problem(err)
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			subdirs = append(subdirs, name)
		case unix.S_IFLNK:
			// never followed, never purged
		default:
			w.check(d, name, &st)
		}
	}
	return subdirs
}

// check plans the file name of d if one of its timestamps is too old.
func (w *planWalk) check(d *dir, name string, st *unix.Stat_t) {
	class, limits := Small, w.policy.Intervals.Small
	if st.Size >= w.policy.Threshold {
		class, limits = Large, w.policy.Intervals.Large
	}
	for _, c := range [...]struct {
		crit  Criterion
		ts    time.Time
		limit time.Duration
	}{
		{ATime, timespec(st.Atim), limits.Access},
		{CTime, timespec(st.Ctim), limits.Creation},
		{MTime, timespec(st.Mtim), limits.Modification},
	} {
		if c.limit > 0 && c.ts.Add(c.limit).Before(w.plan.When) {
			w.plan.Files = append(w.plan.Files, File{
				Path: d.join(name), Root: w.policy.Path, ID: fileID(st), Class: class, Reason: c.crit,
				FileInterval: w.plan.When.Sub(c.ts), CriterionInterval: c.limit,
			})
			return
		}
	}
}

// problem records err: a vanished entry is missing, anything else an error.
func (w *planWalk) problem(err error) {
	var pe *fs.PathError
	if errors.As(err, &pe) && changed(pe.Err) {
		w.plan.Missing = append(w.plan.Missing, pe.Path)
		return
	}
	w.plan.Errors = append(w.plan.Errors, err)
}

// unwrapPathError returns the errno inside an *fs.PathError from os.File.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
