package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue"

	"github.com/nublado-go/nublado/schema/units"
)

// Values of the @unit attribute of #Config fields.
const (
	unitDuration = "duration"
	unitMemory   = "memory"
	unitCPU      = "cpu"
	unitDatetime = "datetime"
)

// unitField is a field of the validated value that holds a unit.
type unitField struct {
	path []string
	unit string
}

// unitFields lists the fields of v that carry a @unit attribute.
func unitFields(v cue.Value) []unitField {
	var out []unitField
	walkUnits(v, nil, &out)
	return out
}

func walkUnits(v cue.Value, path []string, out *[]unitField) {
	switch v.IncompleteKind() {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			return
		}
		for it.Next() {
			sel := it.Selector()
			if !sel.IsString() {
				continue
			}
			p := append(slices.Clip(path), sel.Unquoted())
			if a := it.Value().Attribute("unit"); a.Err() == nil {
				if u, err := a.String(0); err == nil {
					*out = append(*out, unitField{path: p, unit: u})
					continue
				}
			}
			walkUnits(it.Value(), p, out)
		}
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			return
		}
		for i := 0; it.Next(); i++ {
			walkUnits(it.Value(), append(slices.Clip(path), strconv.Itoa(i)), out)
		}
	}
}

// normaliseUnit replaces the value at f.path in tree by its normal form:
// integer nanoseconds, integer bytes, float cores or an RFC 3339 time.
func normaliseUnit(tree map[string]any, f unitField) error {
	parent, key, ok := locate(tree, f.path)
	if !ok {
		return nil
	}
	val := get(parent, key)
	if val == nil {
		return nil
	}
	norm, err := convertUnit(f.unit, val)
	if err != nil {
		return err
	}
	set(parent, key, norm)
	return nil
}

// convertUnit converts one JSON value (json.Number or string) of unit u.
func convertUnit(u string, val any) (any, error) {
	num, isNum := val.(json.Number)
	str, _ := val.(string)
	switch u {
	case unitDuration:
		if isNum {
			f, _ := num.Float64()
			d, err := units.Seconds(f)
			return int64(d), err
		}
		d, err := units.ParseDuration(str)
		return int64(d), err
	case unitMemory:
		if isNum {
			if n, err := num.Int64(); err == nil && n >= 0 {
				return n, nil
			}
			f, _ := num.Float64()
			return units.MemoryFromNumber(f)
		}
		return units.ParseMemory(str)
	case unitCPU:
		if isNum {
			f, _ := num.Float64()
			c, err := units.CPUFromNumber(f)
			return float64(c), err
		}
		c, err := units.ParseCPU(str)
		return float64(c), err
	case unitDatetime:
		t, err := parseDatetime(val)
		if err != nil {
			return nil, err
		}
		return t.Format(time.RFC3339Nano), nil
	}
	return nil, fmt.Errorf("unknown unit %q in the config schema", u)
}

// datetimeLayouts are the date-time spellings accepted for cutoffDate
// (pydantic accepts ISO 8601 with a space or T, with or without zone).
var datetimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseDatetime parses a cutoff date: unix seconds or an ISO 8601 string;
// times without zone are UTC.
func parseDatetime(val any) (time.Time, error) {
	if num, ok := val.(json.Number); ok {
		f, err := num.Float64()
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("input should be a valid datetime")
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	s, _ := val.(string)
	for _, layout := range datetimeLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("Input should be a valid datetime")
}

// locate walks tree to the container of the last element of path.
func locate(tree map[string]any, path []string) (any, string, bool) {
	var cur any = tree
	for _, el := range path[:len(path)-1] {
		next := get(cur, el)
		if next == nil {
			return nil, "", false
		}
		cur = next
	}
	return cur, path[len(path)-1], true
}

// get returns element key of a JSON object or array, or nil.
func get(container any, key string) any {
	switch c := container.(type) {
	case map[string]any:
		return c[key]
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(c) {
			return c[i]
		}
	}
	return nil
}

// set replaces element key of a JSON object or array.
func set(container any, key string, val any) {
	switch c := container.(type) {
	case map[string]any:
		c[key] = val
	case []any:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(c) {
			c[i] = val
		}
	}
}

// unmarshalTree decodes JSON into a tree that keeps numbers exact.
func unmarshalTree(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("decoding the validated config: %w", err)
	}
	return tree, nil
}

// fromTree unmarshals the normalised tree into a Config.
func fromTree(tree map[string]any) (*Config, error) {
	raw, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("encoding the normalised config: %w", err)
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("decoding the normalised config: %w", err)
	}
	cfg.Metrics = metricsFromTree(tree)
	omitEmptyAffinities(&cfg)
	return &cfg, nil
}

// metricsFromTree reads Safir's nested metrics keys into MetricsConfig.
func metricsFromTree(tree map[string]any) MetricsConfig {
	m, _ := tree["metrics"].(map[string]any)
	var out MetricsConfig
	out.Enabled, _ = m["enabled"].(bool)
	out.Mock, _ = m["mock"].(bool)
	out.Application = firstString(m, "application", "appName", "app_name")
	events, _ := m["events"].(map[string]any)
	out.TopicPrefix = firstString(events, "topicPrefix", "topic_prefix")
	sm, _ := m["schemaManager"].(map[string]any)
	if sm == nil {
		sm, _ = m["schema_manager"].(map[string]any)
	}
	out.RegistryURL = firstString(sm, "registryUrl", "registry_url")
	out.Suffix = firstString(sm, "suffix")
	return out
}

// firstString returns the first of keys of m that holds a string.
func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok {
			return s
		}
	}
	return ""
}

// joinPath joins a field path with dots.
func joinPath(path []string) string { return strings.Join(path, ".") }
