package images

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// policyFields are the keys of a prune policy, snake_case.
var policyFields = []string{"release", "weekly", "daily", "release_candidate", "experimental"}

// filterFields are the keys of one type's filter, snake_case.
var filterFields = []string{"number", "age", "cutoff_build", "cutoff_date", "cutoff_version"}

// parsePolicy reads a prune policy (tools §1.8); a null filter is an
// empty one.
func parsePolicy(v any) (FilterPolicy, error) {
	var p FilterPolicy
	m, ok := v.(map[string]any)
	if !ok {
		return p, errors.New("not a mapping")
	}
	f, err := fieldsOf(m, policyFields)
	if err != nil {
		return p, err
	}
	dst := map[string]**Filter{"release": &p.Release, "weekly": &p.Weekly, "daily": &p.Daily,
		"release_candidate": &p.ReleaseCandidate, "experimental": &p.Experimental}
	for _, key := range policyFields {
		v, ok := f[key]
		if !ok {
			continue
		}
		filter, err := parseFilter(v)
		if err != nil {
			return p, fmt.Errorf("%s: %w", key, err)
		}
		*dst[key] = filter
	}
	return p, p.Validate()
}

// parseFilter reads one type's filter; null values are unset.
func parseFilter(v any) (*Filter, error) {
	out := &Filter{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a mapping")
	}
	f, err := fieldsOf(m, filterFields)
	if err != nil {
		return nil, err
	}
	for _, key := range filterFields {
		if f[key] == nil {
			continue
		}
		if err := setFilterField(out, key, f[key]); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
	}
	return out, nil
}

func setFilterField(out *Filter, key string, v any) error {
	var err error
	switch key {
	case "number":
		if out.Number, err = intValue(v); err == nil && out.Number < 0 {
			err = fmt.Errorf("%d is negative", out.Number)
		}
	case "age":
		out.Age, err = durationValue(v)
	case "cutoff_build":
		out.CutoffBuild, err = intValue(v)
	case "cutoff_date":
		var t time.Time
		if t, err = datetimeValue(v); err == nil {
			out.CutoffDate = &t
		}
	case "cutoff_version":
		out.CutoffVersion, err = stringValue(v)
	}
	return err
}

// intValue reads an integer: a number without fraction, or a string of
// one (pydantic's lax mode).
func intValue(v any) (int, error) {
	var f float64
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil && n >= math.MinInt32 && n <= math.MaxInt32 {
			return int(n), nil
		}
		f, _ = x.Float64()
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	if f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, fmt.Errorf("%v is not an integer", v)
	}
	return int(f), nil
}

// durationPattern is Safir's HumanTimedelta grammar: optional weeks, days,
// hours, minutes and seconds, in that order (the same grammar as the
// controller config's durations, schema/units).
var durationPattern = regexp.MustCompile(`^(?:(\d+?)\s*(?:weeks|week|w))?\s*` +
	`(?:(\d+?)\s*(?:days|day|d))?\s*` +
	`(?:(\d+?)\s*(?:hours|hour|hr|h))?\s*` +
	`(?:(\d+?)\s*(?:minutes|minute|mins|min|m))?\s*` +
	`(?:(\d+?)\s*(?:seconds|second|secs|sec|s))?$`)

var durationUnits = [...]time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}

// durationValue reads an age: a number of seconds, as a number or a
// numeric string, or a string such as "2w", "4h 30m", "5weeks4days".
func durationValue(v any) (time.Duration, error) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = strings.TrimSpace(x)
	default:
		return 0, fmt.Errorf("%v is not a duration", v)
	}
	if secs, err := strconv.ParseFloat(text, 64); err == nil {
		ns := math.Round(secs * 1e9)
		if math.IsNaN(ns) || math.IsInf(ns, 0) || math.Abs(ns) >= math.MaxInt64 {
			return 0, fmt.Errorf("could not parse %q as a time period", text)
		}
		return time.Duration(ns), nil
	}
	m := durationPattern.FindStringSubmatch(text)
	if m == nil || text == "" {
		return 0, fmt.Errorf("could not parse %q as a time period", text)
	}
	var d time.Duration
	for i, unit := range durationUnits {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || d > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("could not parse %q as a time period", text)
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

// datetimeLayouts are the ISO 8601 spellings accepted for cutoffDate.
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

// datetimeValue reads a cutoff date: Unix seconds or an ISO 8601 date or
// date-time; without a zone it is UTC.
func datetimeValue(v any) (time.Time, error) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) {
			return time.Time{}, fmt.Errorf("%v is not a valid datetime", v)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case string:
		for _, layout := range datetimeLayouts {
			if t, err := time.Parse(layout, strings.TrimSpace(x)); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%v is not a valid datetime", v)
}
