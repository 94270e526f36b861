package schema

import (
	"strconv"

	"cuelang.org/go/cue"
)

// document is the parsed YAML, kept to find the position of a field path.
type document struct {
	value    cue.Value
	filename string
}

// pos returns the position of the value at path, or of its nearest
// existing ancestor. Path elements are the canonical camelCase keys; the
// snake_case and short spellings are tried too.
func (d *document) pos(path []string) Position {
	v := d.value
	best := d.position(v)
	for _, el := range path {
		next, ok := child(v, el)
		if !ok {
			break
		}
		v = next
		if p := d.position(v); p.Line > 0 {
			best = p
		}
	}
	if best.Filename == "" {
		best.Filename = d.filename
	}
	return best
}

// fieldError returns a FieldError for the field at path.
func (d *document) fieldError(path []string, msg string) *FieldError {
	return &FieldError{Pos: d.pos(path), Path: joinPath(path), Message: msg}
}

// position converts v's source position.
func (d *document) position(v cue.Value) Position {
	p := v.Pos()
	if !p.IsValid() {
		return Position{}
	}
	return Position{Filename: d.filename, Line: p.Line(), Column: p.Column()}
}

// child looks up one path element of v in any of its accepted spellings.
func child(v cue.Value, el string) (cue.Value, bool) {
	if i, err := strconv.Atoi(el); err == nil && v.IncompleteKind() == cue.ListKind {
		c := v.LookupPath(cue.MakePath(cue.Index(i)))
		return c, c.Exists()
	}
	if v.IncompleteKind() != cue.StructKind {
		return cue.Value{}, false
	}
	for _, name := range spellings(el) {
		c := v.LookupPath(cue.MakePath(cue.Str(name)))
		if c.Exists() {
			return c, true
		}
	}
	return cue.Value{}, false
}

// spellings are the YAML keys that may hold the canonical key el.
func spellings(el string) []string {
	switch el {
	case "baseUrl":
		return []string{"EXTERNAL_INSTANCE_URL", "base_url"}
	case "slackWebhook":
		return []string{"NUBLADO_SLACK_WEBHOOK", "slack_webhook"}
	case "preferredDuringSchedulingIgnoredDuringExecution":
		return []string{el, "preferred"}
	case "requiredDuringSchedulingIgnoredDuringExecution":
		return []string{el, "required"}
	}
	if s := snake(el); s != el {
		return []string{el, s}
	}
	return []string{el}
}

// snake is the snake_case spelling of a camelCase key.
func snake(s string) string {
	out := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			out = append(out, '_', c-'A'+'a')
			continue
		}
		out = append(out, c)
	}
	return string(out)
}
