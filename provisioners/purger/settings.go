package purger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// decodeYAML reads YAML into generic values, keeping numbers exact
// (json.Number) so that sizes and durations are not rounded through float64.
func decodeYAML(data []byte) (any, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// camelCase turns a snake_case field name into its camelCase alias.
func camelCase(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = string(unicode.ToUpper(rune(parts[i][0]))) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// fieldsOf maps the keys of a YAML mapping to the snake_case field names they
// stand for: each field may be written snake_case or camelCase (exactly). With
// strict, any other key is an error; otherwise other keys are ignored. A field
// given in both spellings is an error.
func fieldsOf(m map[string]any, fields []string, strict bool) (map[string]any, error) {
	byKey := make(map[string]string, 2*len(fields))
	for _, f := range fields {
		byKey[f] = f
		byKey[camelCase(f)] = f
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(m))
	for _, k := range keys {
		f, ok := byKey[k]
		if !ok {
			if strict {
				return nil, fmt.Errorf("unknown key %q", k)
			}
			continue
		}
		if _, dup := out[f]; dup {
			return nil, fmt.Errorf("key %q given twice (as %q and %q)", f, f, camelCase(f))
		}
		out[f] = m[k]
	}
	return out, nil
}

// parseBool reads a boolean as pydantic does: a YAML boolean, 0 or 1, or one of
// the strings 0/1, f/t, false/true, n/y, no/yes, off/on (any case).
func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case json.Number:
		switch x.String() {
		case "0":
			return false, nil
		case "1":
			return true, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "0", "off", "f", "false", "n", "no":
			return false, nil
		case "1", "on", "t", "true", "y", "yes":
			return true, nil
		}
	}
	return false, fmt.Errorf("%v is not a boolean", v)
}

// ParseBool reads a boolean flag value from the environment (1/0, true/false,
// yes/no, on/off, t/f, y/n, any case).
func ParseBool(s string) (bool, error) {
	return parseBool(s)
}

// envSettings returns the values of the environment variables PREFIX_FIELD for
// fields, keyed by field, matching names case-insensitively (the last of
// several spellings wins). Empty values count as unset.
func envSettings(environ []string, prefix string, fields []string) map[string]string {
	want := make(map[string]string, len(fields))
	for _, f := range fields {
		want[strings.ToUpper(prefix+f)] = f
	}
	out := make(map[string]string)
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if f, ok := want[strings.ToUpper(k)]; ok {
			if v == "" {
				delete(out, f)
				continue
			}
			out[f] = v
		}
	}
	return out
}
