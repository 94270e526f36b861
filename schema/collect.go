package schema

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	cueerrors "cuelang.org/go/cue/errors"
	"github.com/hashicorp/go-multierror"
)

// checkPrefix marks the fields in which #Config's checks put their errors:
// "_check_FIELD" reports at FIELD, "_check" at the enclosing struct.
const checkPrefix = "_check"

// collect turns a CUE error (possibly a list) into a *multierror.Error of
// FieldErrors with positions in the configuration file.
func collect(err error, doc *document, filename string) error {
	var errs *multierror.Error
	seen := map[string]bool{}
	for _, e := range cueerrors.Errors(err) {
		path := cleanPath(e.Path())
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		if msg == "" {
			msg = strings.TrimPrefix(e.Error(), filename+": ")
		}
		fe := &FieldError{Path: strings.Join(path, "."), Message: msg}
		fe.Pos = inputPosition(e, filename)
		if fe.Pos.Line == 0 {
			fe.Pos = messagePosition(msg, filename)
		}
		if fe.Pos.Line == 0 && doc != nil {
			fe.Pos = doc.pos(path)
		}
		if fe.Pos.Filename == "" {
			fe.Pos.Filename = filename
		}
		if key := fe.Error(); !seen[key] {
			seen[key] = true
			errs = multierror.Append(errs, fe)
		}
	}
	if errs == nil {
		return fmt.Errorf("validating %s: %w", filename, err)
	}
	return finish(errs)
}

// inputPosition returns the first position of e in the configuration file.
func inputPosition(e cueerrors.Error, filename string) Position {
	for _, p := range cueerrors.Positions(e) {
		if p.IsValid() && p.Filename() == filename {
			return Position{Filename: filename, Line: p.Line(), Column: p.Column()}
		}
	}
	return Position{}
}

// linePattern finds the line (and column) that YAML syntax errors name in
// their message.
var linePattern = regexp.MustCompile(`(?:line |\.yaml:|\.yml:)(\d+)(?::(\d+))?`)

// messagePosition returns the position named in a YAML syntax error's
// message.
func messagePosition(msg, filename string) Position {
	m := linePattern.FindStringSubmatch(msg)
	if m == nil {
		return Position{}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	return Position{Filename: filename, Line: line, Column: col}
}

// cleanPath maps a CUE error path to the configuration's field path: the
// check fields become the field they check, quotes are removed.
func cleanPath(path []string) []string {
	out := make([]string, 0, len(path))
	for _, el := range path {
		if s, err := strconv.Unquote(el); err == nil {
			el = s
		}
		switch {
		case strings.HasPrefix(el, "#"):
			continue
		case el == checkPrefix:
			continue
		case strings.HasPrefix(el, checkPrefix+"_"):
			el = strings.TrimPrefix(el, checkPrefix+"_")
		}
		out = append(out, el)
	}
	return out
}

// finish sorts the errors by position and path and sets the one-per-line
// format.
func finish(errs *multierror.Error) error {
	sort.SliceStable(errs.Errors, func(i, j int) bool {
		a, b := errs.Errors[i].(*FieldError), errs.Errors[j].(*FieldError)
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line < b.Pos.Line
		}
		if a.Pos.Column != b.Pos.Column {
			return a.Pos.Column < b.Pos.Column
		}
		return a.Error() < b.Error()
	})
	errs.ErrorFormat = formatErrors
	return errs
}

// formatErrors prints one error per line.
func formatErrors(errs []error) string {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}
