package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// object is a JSON object that keeps its keys in document order, as a
// Python dict does; it marshals back in that order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// MarshalJSON writes the object with its keys in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalValue(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func marshalValue(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// MaxBodyDepth bounds the nesting of arrays and objects in a request body.
// The create body needs three levels; deeper bodies are answered 422
// json_invalid before they cost stack and time (a 1 MiB body of brackets
// would otherwise nest half a million levels).
const MaxBodyDepth = 32

// errTooDeep is the json_invalid cause of a body nested deeper than
// MaxBodyDepth.
var errTooDeep = fmt.Errorf("exceeded max depth of %d", MaxBodyDepth)

// readBody reads a JSON request body of at most s.maxBody bytes. It
// returns nil for an empty body, a 422 json_invalid for one that is not
// JSON and a 413 for one that is too large: at once, reading nothing, when
// Content-Length announces it, else as soon as the limit is passed. Objects
// are *object, numbers json.Number, arrays []any.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (any, error) {
	tooLarge := &statusError{status: http.StatusRequestEntityTooLarge, detail: "Request Entity Too Large"}
	if r.ContentLength > s.maxBody {
		w.Header().Set("Connection", "close")
		return nil, tooLarge
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, tooLarge
		}
		return nil, fmt.Errorf("reading request body: %w", err)
	}
	return decodeBody(data)
}

// decodeBody decodes a JSON request body as readBody does: nil for an empty
// body, a 422 json_invalid for one that is not JSON.
func decodeBody(data []byte) (any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec, 0)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("extra data after the JSON value")
		}
	}
	if err != nil {
		return nil, jsonInvalid(data, dec.InputOffset(), err)
	}
	return v, nil
}

// jsonInvalid is FastAPI's answer to a body that is not JSON; loc holds the
// position of the offending character, as Python's JSONDecodeError.pos.
func jsonInvalid(data []byte, offset int64, err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		// The decoder's Token API reports the offending character's index,
		// as Python does, except inside a literal (tru, nul), where Python
		// points at the literal's start.
		offset = min(max(syntax.Offset, 0), int64(len(data)))
		if strings.Contains(syntax.Error(), "in literal") {
			for offset > 0 && isLetter(data[offset-1]) {
				offset--
			}
		}
	case errors.Is(err, io.ErrUnexpectedEOF):
		offset = int64(len(data))
	case errors.Is(err, errTooDeep):
		offset-- // the bracket that opened one level too many
	}
	return &ValidationError{Detail: []FieldError{{
		Type: "json_invalid", Loc: loc("body", offset), Msg: "JSON decode error",
		Input: map[string]any{}, Ctx: map[string]any{"error": err.Error()},
	}}}
}

// decodeValue decodes the next JSON value at nesting depth, keeping object
// key order; an array or object deeper than MaxBodyDepth is errTooDeep.
func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxBodyDepth {
			return nil, errTooDeep
		}
		switch t {
		case '{':
			obj := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				obj.set(kt.(string), v)
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			list := []any{}
			for dec.More() {
				v, err := decodeValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		return nil, fmt.Errorf("unexpected %q", t)
	default:
		return t, nil
	}
}

func isLetter(b byte) bool { return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' }
