package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// OrderedStrings is a map of strings that keeps the order in which the
// configuration file lists its keys. Nublado mounts lab.files in that order
// (volumes and volume mounts of the lab pod), so the order is part of what a
// configuration means. The zero value is an empty map.
type OrderedStrings struct {
	keys   []string
	values map[string]string
}

// NewOrderedStrings returns a map holding the pairs k1, v1, k2, v2, … in
// that order. It panics on an odd number of arguments (a programming error).
func NewOrderedStrings(pairs ...string) OrderedStrings {
	if len(pairs)%2 != 0 {
		panic("schema.NewOrderedStrings: odd number of arguments")
	}
	var m OrderedStrings
	for i := 0; i < len(pairs); i += 2 {
		m.Set(pairs[i], pairs[i+1])
	}
	return m
}

// Set adds or replaces key; a new key goes last.
func (m *OrderedStrings) Set(key, value string) {
	if m.values == nil {
		m.values = map[string]string{}
	}
	if _, ok := m.values[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.values[key] = value
}

// Get returns the value of key.
func (m OrderedStrings) Get(key string) (string, bool) {
	v, ok := m.values[key]
	return v, ok
}

// Keys returns the keys in order.
func (m OrderedStrings) Keys() []string { return slices.Clone(m.keys) }

// Len is the number of keys.
func (m OrderedStrings) Len() int { return len(m.keys) }

// reorder puts the keys listed in order first, in that order; the others
// keep their relative order after them.
func (m *OrderedStrings) reorder(order []string) {
	keys := make([]string, 0, len(m.keys))
	for _, k := range order {
		if _, ok := m.values[k]; ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	for _, k := range m.keys {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	m.keys = keys
}

// MarshalJSON writes a JSON object with the keys in order. The render
// engine converts it to a CUE struct with the same field order.
func (m OrderedStrings) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(m.values[k])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads a JSON object of strings, keeping its key order.
func (m *OrderedStrings) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		*m = OrderedStrings{}
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object of strings, got %v", tok)
	}
	out := OrderedStrings{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		var v string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("value of %q: %w", kt, err)
		}
		out.Set(kt.(string), v)
	}
	*m = out
	return nil
}
