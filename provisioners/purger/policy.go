package purger

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Policy is the purge policy (policy.yaml): one entry per directory tree.
type Policy struct {
	Directories []DirectoryPolicy
}

// DirectoryPolicy says which files of one tree are purged.
type DirectoryPolicy struct {
	// Path is the root of the tree, cleaned and made absolute.
	Path string
	// Threshold separates small files (size < Threshold) from large ones.
	Threshold int64
	// Intervals are the age limits of each size class.
	Intervals Intervals
}

// Intervals holds the age limits of the two size classes.
type Intervals struct {
	Large SizeIntervals
	Small SizeIntervals
}

// SizeIntervals are the age limits of one size class. A file is purged when
// its access, inode change ("creation") or modification time is older than the
// matching interval. Zero disables a criterion.
type SizeIntervals struct {
	Access       time.Duration
	Creation     time.Duration
	Modification time.Duration
}

// ReadPolicy reads the policy file at path.
func ReadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading purge policy: %w", err)
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("purge policy %q: %w", path, err)
	}
	return p, nil
}

// ParsePolicy reads policy.yaml. Keys may be camelCase or snake_case; unknown
// keys are ignored. directories, and each entry's path, threshold and
// intervals, are required.
func ParsePolicy(data []byte) (*Policy, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	top, err := mapping(doc, "policy")
	if err != nil {
		return nil, err
	}
	fields, err := fieldsOf(top, []string{"directories"}, false)
	if err != nil {
		return nil, err
	}
	raw, ok := fields["directories"]
	if !ok {
		return nil, fmt.Errorf("directories: required")
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("directories: want a list, not %v", raw)
	}
	p := &Policy{Directories: make([]DirectoryPolicy, 0, len(list))}
	for i, item := range list {
		d, err := parseDirectory(item)
		if err != nil {
			return nil, fmt.Errorf("directories[%d].%w", i, err)
		}
		p.Directories = append(p.Directories, d)
	}
	return p, nil
}

// fieldError names the field an error is about.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func mapping(v any, what string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a mapping, not %v", what, v)
	}
	return m, nil
}

func parseDirectory(item any) (DirectoryPolicy, error) {
	var d DirectoryPolicy
	m, err := mapping(item, "entry")
	if err != nil {
		return d, &fieldError{"entry", err}
	}
	f, err := fieldsOf(m, []string{"path", "threshold", "intervals"}, false)
	if err != nil {
		return d, &fieldError{"entry", err}
	}
	for _, k := range []string{"path", "threshold", "intervals"} {
		if _, ok := f[k]; !ok {
			return d, &fieldError{k, fmt.Errorf("required")}
		}
	}
	path, err := stringValue(f["path"])
	if err != nil {
		return d, &fieldError{"path", err}
	}
	if d.Path, err = filepath.Abs(path); err != nil {
		return d, &fieldError{"path", err}
	}
	if d.Threshold, err = ParseSize(f["threshold"]); err != nil {
		return d, &fieldError{"threshold", err}
	}
	if d.Intervals, err = parseIntervals(f["intervals"]); err != nil {
		return d, &fieldError{"intervals", err}
	}
	return d, nil
}

func parseIntervals(v any) (Intervals, error) {
	var iv Intervals
	m, err := mapping(v, "intervals")
	if err != nil {
		return iv, err
	}
	f, err := fieldsOf(m, []string{"large", "small"}, false)
	if err != nil {
		return iv, err
	}
	if iv.Large, err = parseSizeIntervals(f["large"]); err != nil {
		return iv, &fieldError{"large", err}
	}
	if iv.Small, err = parseSizeIntervals(f["small"]); err != nil {
		return iv, &fieldError{"small", err}
	}
	return iv, nil
}

func parseSizeIntervals(v any) (SizeIntervals, error) {
	var si SizeIntervals
	if v == nil {
		return si, nil
	}
	m, err := mapping(v, "intervals")
	if err != nil {
		return si, err
	}
	f, err := fieldsOf(m, []string{"access_interval", "creation_interval", "modification_interval"}, false)
	if err != nil {
		return si, err
	}
	for _, c := range []struct {
		key string
		dst *time.Duration
	}{
		{"access_interval", &si.Access},
		{"creation_interval", &si.Creation},
		{"modification_interval", &si.Modification},
	} {
		if *c.dst, err = ParseDuration(f[c.key]); err != nil {
			return si, &fieldError{c.key, err}
		}
	}
	return si, nil
}
