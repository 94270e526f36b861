package units

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// durationPattern is Safir's HumanTimedelta grammar: optional weeks, days,
// hours, minutes and seconds, in that order.
var durationPattern = regexp.MustCompile(`^(?:(\d+?)\s*(?:weeks|week|w))?\s*` +
	`(?:(\d+?)\s*(?:days|day|d))?\s*` +
	`(?:(\d+?)\s*(?:hours|hour|hr|h))?\s*` +
	`(?:(\d+?)\s*(?:minutes|minute|mins|min|m))?\s*` +
	`(?:(\d+?)\s*(?:seconds|second|secs|sec|s))?$`)

// durationUnits are the multipliers of durationPattern's groups.
var durationUnits = [...]time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}

// DurationError reports a value that is not a duration.
type DurationError struct {
	// Value is the rejected input.
	Value string
}

func (e *DurationError) Error() string {
	return fmt.Sprintf("could not parse %q as a time period (use seconds or a string such as 2h or 4h 3m)", e.Value)
}

// ParseDuration parses a duration written as a number of seconds ("90",
// "0.5") or in the NwNdNhNmNs grammar ("2h", "4h 3minutes", "5w4d").
// Surrounding whitespace is ignored; the empty string is zero. Errors are
// [*DurationError].
func ParseDuration(s string) (time.Duration, error) {
	text := strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(text, 64); err == nil && isDecimal(text) {
		d, err := Seconds(secs)
		if err != nil {
			return 0, &DurationError{Value: s}
		}
		return d, nil
	}
	m := durationPattern.FindStringSubmatch(text)
	if m == nil {
		return 0, &DurationError{Value: s}
	}
	var d time.Duration
	for i, unit := range durationUnits {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || d > math.MaxInt64-time.Duration(n)*unit {
			return 0, &DurationError{Value: s}
		}
		d += time.Duration(n) * unit
	}
	return d, nil
}

// Seconds converts a number of seconds to a Duration, rounded to the
// nanosecond. It fails for NaN, infinities and values beyond ±292 years.
func Seconds(secs float64) (time.Duration, error) {
	ns := math.Round(secs * 1e9)
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns <= math.MinInt64 {
		return 0, &DurationError{Value: strconv.FormatFloat(secs, 'g', -1, 64)}
	}
	return time.Duration(ns), nil
}

// isDecimal reports whether s is a plain decimal number (what Python's
// float() accepts minus inf, nan and underscores).
func isDecimal(s string) bool {
	return decimalPattern.MatchString(s)
}

var decimalPattern = regexp.MustCompile(`^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$`)
