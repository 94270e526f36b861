package units

import (
	"math"
	"regexp"
	"strconv"
	"strings"
)

// CPU is an amount of CPU in cores, as Nublado holds it: a float. Its
// [CPU.String] and JSON form follow Python's str(float), so 1 is "1.0" and
// 0.25 is "0.25", which is how CPU appears in lab objects (decision D14).
type CPU float64

// String returns Python's str() of the value: the shortest decimal that
// reads back to the same float, with ".0" added to whole numbers and
// scientific notation below 1e-4 and from 1e16 on.
func (c CPU) String() string { return FormatPythonFloat(float64(c)) }

// MarshalJSON writes the value as a JSON number in Python's notation
// ("1.0", "0.25"), so that consumers that keep number literals (CUE) see
// the same text as the original's objects.
func (c CPU) MarshalJSON() ([]byte, error) {
	f := float64(c)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &CPUError{Value: strconv.FormatFloat(f, 'g', -1, 64)}
	}
	return []byte(c.String()), nil
}

// Millicores returns the value in whole millicores, rounded.
func (c CPU) Millicores() int64 { return int64(math.Round(float64(c) * 1000)) }

// CPUError reports a value that is not a CPU amount. Its message is
// Nublado's.
type CPUError struct {
	// Value is the rejected input.
	Value string
}

func (e *CPUError) Error() string {
	return "CPU must be specified as a whole number of milli-cores, like 500m, " +
		"or a decimal number with no more than three places of precision, like 1.234"
}

var (
	millicorePattern = regexp.MustCompile(`^\d+m$`)
	coresPattern     = regexp.MustCompile(`^(\d+\.?\d{0,3}|\.\d{1,3})$`)
)

// ParseCPU parses a CPU amount written as a string: whole millicores
// ("450m" is 0.45) or a decimal number of cores with at most three decimals
// ("1.5", "2"). "1.2m", "1.2345" and "nope" are rejected with a
// [*CPUError].
func ParseCPU(s string) (CPU, error) {
	text := strings.TrimSpace(s)
	if millicorePattern.MatchString(text) {
		n, err := strconv.ParseInt(text[:len(text)-1], 10, 64)
		if err != nil {
			return 0, &CPUError{Value: s}
		}
		return CPU(float64(n) / 1000), nil
	}
	if !coresPattern.MatchString(text) {
		return 0, &CPUError{Value: s}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, &CPUError{Value: s}
	}
	return CPUFromNumber(f)
}

// CPUFromNumber checks a numeric CPU amount (a YAML int or float): it must be
// finite, not negative and have at most three decimals (1.2345 is
// rejected).
func CPUFromNumber(f float64) (CPU, error) {
	orig := strconv.FormatFloat(f, 'f', -1, 64)
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
		return 0, &CPUError{Value: orig}
	}
	if i := strings.IndexByte(orig, '.'); i >= 0 && len(orig)-i-1 > 3 {
		return 0, &CPUError{Value: orig}
	}
	return CPU(f), nil
}

// FormatPythonFloat formats f like Python's repr()/str() of a float: the
// shortest round-tripping digits, fixed notation with at least one decimal
// when 1e-4 <= |f| < 1e16 (1 is "1.0", 0.25 "0.25", 12 "12.0"), scientific
// otherwise ("1e-05", "1e+16").
func FormatPythonFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if f == 0 || (abs >= 1e-4 && abs < 1e16) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(s, ".") {
			s += ".0"
		}
		return s
	}
	return strconv.FormatFloat(f, 'e', -1, 64)
}
