package purger

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/hashicorp/go-multierror"
)

// ErrUnsafePath is wrapped by the errors for planned paths that purging
// refuses: a path outside its policy directory, a root that is not one of the
// plan's directories, or a path that now passes through a symlink.
var ErrUnsafePath = errors.New("refusing path outside the configured directory or through a symlink")

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
