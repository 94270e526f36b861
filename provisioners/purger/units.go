package purger

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidSize is wrapped by the errors of [ParseSize].
var ErrInvalidSize = errors.New("invalid size")

// ErrInvalidDuration is wrapped by the errors of [ParseDuration] and
// [ParseDurationString].
var ErrInvalidDuration = errors.New("invalid duration")

// sizeSuffix is one unit suffix of a human-readable size.
type sizeSuffix struct {
	suffix  string
	mult    int64
	decimal bool // the multiplier is a power of ten: non-integral results are errors
}

// sizeSuffixes are tried in this order; the first one the string ends with wins.
var sizeSuffixes = []sizeSuffix{
	{"k", 1e3, true}, {"K", 1e3, true}, {"M", 1e6, true}, {"G", 1e9, true},
	{"T", 1e12, true}, {"P", 1e15, true}, {"E", 1e18, true},
	{"ki", 1 << 10, false}, {"Ki", 1 << 10, false}, {"Mi", 1 << 20, false},
	{"Gi", 1 << 30, false}, {"Ti", 1 << 40, false}, {"Pi", 1 << 50, false},
	{"Ei", 1 << 60, false},
}

// decimalRE is a plain decimal number, as Python's float() reads it (without
// its special values inf and nan).
var decimalRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// ParseSize reads a size in bytes as the policy's threshold accepts it: an
// integer; a float with no fractional part; or a string holding an integer,
// optionally followed by "B" or "b", or a decimal number followed by a decimal
// (k, K, M, G, T, P, E) or binary (ki, Ki, Mi, Gi, Ti, Pi, Ei) unit and an
// optional "B"/"b", with spaces allowed around the unit. A value with a binary
// unit or no unit is rounded half away from zero to an integer; with a decimal
// unit, a fractional result is an error. Arithmetic is exact ("1.1k" is 1100).
// Negative values are accepted. Errors wrap [ErrInvalidSize].
func ParseSize(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		return integralFloat(x.String())
	case float64:
		return integralFloat(strconv.FormatFloat(x, 'g', -1, 64))
	case string:
		return parseSizeString(x)
	}
	return 0, fmt.Errorf("%w: %v is not a number or a string", ErrInvalidSize, v)
}

// integralFloat converts the decimal text of a number to an integer if it has
// no fractional part.
func integralFloat(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || !decimalRE.MatchString(s) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidSize, s)
	}
	if !r.IsInt() {
		return 0, fmt.Errorf("%w: %s is not an integer", ErrInvalidSize, s)
	}
	return ratToInt64(r, s)
}

func parseSizeString(orig string) (int64, error) {
	s := strings.TrimSpace(orig)
	if strings.HasSuffix(s, "B") || strings.HasSuffix(s, "b") {
		s = strings.TrimSpace(s[:len(s)-1])
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	unit := sizeSuffix{"", 1, false}
	for _, u := range sizeSuffixes {
		if strings.HasSuffix(s, u.suffix) {
			unit = u
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	mantissa, ok := new(big.Rat).SetString(s)
	if !ok || !decimalRE.MatchString(s) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidSize, orig)
	}
	value := mantissa.Mul(mantissa, new(big.Rat).SetInt64(unit.mult))
	if !value.IsInt() {
		if unit.decimal {
			return 0, fmt.Errorf("%w: could not convert %q to integer", ErrInvalidSize, orig)
		}
		value = roundHalfUp(value)
	}
	return ratToInt64(value, orig)
}

// roundHalfUp rounds r to the nearest integer, halves away from zero.
func roundHalfUp(r *big.Rat) *big.Rat {
	abs := new(big.Rat).Abs(r)
	abs.Add(abs, big.NewRat(1, 2))
	q := new(big.Int).Quo(abs.Num(), abs.Denom())
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return new(big.Rat).SetInt(q)
}

func ratToInt64(r *big.Rat, orig string) (int64, error) {
	n := r.Num()
	if !n.IsInt64() {
		return 0, fmt.Errorf("%w: %q is out of range", ErrInvalidSize, orig)
	}
	return n.Int64(), nil
}

// durationRE is Safir's duration string: optional weeks, days, hours, minutes
// and seconds, in that order, with optional whitespace.
var durationRE = regexp.MustCompile(`^(?:(\d+)\s*(?:weeks|week|w))?\s*(?:(\d+)\s*(?:days|day|d))?\s*` +
	`(?:(\d+)\s*(?:hours|hour|hr|h))?\s*(?:(\d+)\s*(?:minutes|minute|mins|min|m))?\s*` +
	`(?:(\d+)\s*(?:seconds|second|secs|sec|s))?$`)

// durationUnits are the multipliers of durationRE's groups.
var durationUnits = [...]time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}

// ParseDurationString reads a duration string such as "3650d", "1w2d" or
// "4h 3minutes": integers with units weeks|week|w, days|day|d, hours|hour|hr|h,
// minutes|minute|mins|min|m and seconds|second|secs|sec|s, in that order, each
// optional, separated by optional whitespace. Plain numbers and empty strings
// are rejected. Errors wrap [ErrInvalidDuration].
func ParseDurationString(s string) (time.Duration, error) {
	m := durationRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || strings.TrimSpace(s) == "" {
		return 0, fmt.Errorf("%w: %q (want a duration like 3650d, 1w2d or 4h30m)", ErrInvalidDuration, s)
	}
	var total time.Duration
	for i, unit := range durationUnits {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || total > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("%w: %q is out of range", ErrInvalidDuration, s)
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}

// ParseDuration reads a duration as the purger's config and policy accept it
// ("HumanTimedelta"): a number of seconds (integer or float, or a string
// holding one) or a duration string as [ParseDurationString] reads it. nil is
// zero (unset). Negative durations are rejected. Errors wrap
// [ErrInvalidDuration].
func ParseDuration(v any) (time.Duration, error) {
	var secs string
	switch x := v.(type) {
	case nil:
		return 0, nil
	case int:
		secs = strconv.Itoa(x)
	case int64:
		secs = strconv.FormatInt(x, 10)
	case float64:
		secs = strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		secs = x.String()
	case string:
		s := strings.TrimSpace(x)
		if !decimalRE.MatchString(s) {
			d, err := ParseDurationString(s)
			return d, err
		}
		secs = s
	default:
		return 0, fmt.Errorf("%w: %v is not a number or a string", ErrInvalidDuration, v)
	}
	return secondsToDuration(secs)
}

func secondsToDuration(secs string) (time.Duration, error) {
	f, err := strconv.ParseFloat(secs, 64)
	if err != nil || !decimalRE.MatchString(secs) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidDuration, secs)
	}
	if f < 0 {
		return 0, fmt.Errorf("%w: %s is negative", ErrInvalidDuration, secs)
	}
	ns := math.Round(f * 1e9)
	if ns >= math.MaxInt64 {
		return 0, fmt.Errorf("%w: %s seconds is out of range", ErrInvalidDuration, secs)
	}
	return time.Duration(ns), nil
}

// formatSeconds prints a duration as seconds without a trailing ".0".
func formatSeconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}
