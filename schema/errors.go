package schema

import (
	"fmt"
	"strings"
)

// Position is a place in a configuration file. The zero value is unknown.
type Position struct {
	// Filename as given to [Load] or [Parse].
	Filename string `json:"filename,omitempty"`
	// Line is 1-based; 0 when unknown.
	Line int `json:"line,omitempty"`
	// Column is 1-based; 0 when unknown.
	Column int `json:"column,omitempty"`
}

// String returns "file:line:column", "file" or "" depending on what is
// known.
func (p Position) String() string {
	switch {
	case p.Line > 0:
		return fmt.Sprintf("%s:%d:%d", p.Filename, p.Line, p.Column)
	default:
		return p.Filename
	}
}

// FieldError is one problem of a configuration: where it is, which field
// (a dotted path such as lab.sizes.1.size, empty for the whole file) and the
// message, which is Nublado's own for the rules it checks ("A home volume is
// required"). [Load] returns every FieldError at once in a
// *multierror.Error.
type FieldError struct {
	// Pos is the position of the offending value, or of the nearest
	// enclosing one when the value is missing.
	Pos Position
	// Path is the dotted field path.
	Path string
	// Message says what is wrong.
	Message string
}

// Error returns "file:line:col: path: message".
func (e *FieldError) Error() string { return formatProblem(e.Pos, e.Path, e.Message) }

// Warning is a value Nublado accepts but that will not work as intended:
// Kubernetes would reject the objects built from it (decision D19), or the
// configuration cannot spawn any lab (decision D5).
type Warning struct {
	// Pos is the position of the value.
	Pos Position
	// Path is the dotted field path.
	Path string
	// Message names the problem and, for Kubernetes rules, the rule.
	Message string
}

// String returns "file:line:col: path: message".
func (w Warning) String() string { return formatProblem(w.Pos, w.Path, w.Message) }

// Error lets a warning be returned as an error (nublado validate --strict).
func (w Warning) Error() string { return w.String() }

func formatProblem(pos Position, path, msg string) string {
	var parts []string
	if p := pos.String(); p != "" {
		parts = append(parts, p)
	}
	if path != "" {
		parts = append(parts, path)
	}
	parts = append(parts, msg)
	return strings.Join(parts, ": ")
}
