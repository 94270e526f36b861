package units

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// memoryUnits maps a normalised unit (first letter upper case) to its
// multiplier: one letter is decimal, two letters ending in i are binary.
var memoryUnits = map[string]float64{
	"":   1,
	"K":  1e3,
	"M":  1e6,
	"G":  1e9,
	"T":  1e12,
	"P":  1e15,
	"E":  1e18,
	"Ki": 1 << 10,
	"Mi": 1 << 20,
	"Gi": 1 << 30,
	"Ti": 1 << 40,
	"Pi": 1 << 50,
	"Ei": 1 << 60,
}

// memoryPattern splits a memory string into a number and a unit.
var (
	memoryPattern = regexp.MustCompile(`^(\d+\.?\d*|\.\d+)\s*([A-Za-z]{0,2})$`)
	digitsPattern = regexp.MustCompile(`^\d+$`)
)

// MemoryError reports a value that is not a memory quantity.
type MemoryError struct {
	// Value is the rejected input.
	Value string
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("%q is not a valid memory quantity (use bytes or a number with a unit such as 512M or 1.5Gi)", e.Value)
}

// ParseMemory parses a memory quantity into bytes, as Nublado's
// memory_to_bytes does: a plain number is bytes; otherwise a number (which
// may be fractional) and a unit, after stripping one trailing "B" or "b".
// One-letter units are decimal (K=10^3 … E=10^18), two-letter units ending
// in "i" binary (Ki=2^10 … Ei=2^60); the unit's first letter may be lower
// case ("64ki" is 65536). The result is truncated to whole bytes: "0.75Gi"
// is 805306368, "12K" 12000, "12MiB" 12582912. Errors are [*MemoryError].
func ParseMemory(s string) (int64, error) {
	text := strings.TrimSpace(s)
	if digitsPattern.MatchString(text) {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	if strings.HasSuffix(text, "B") || strings.HasSuffix(text, "b") {
		text = text[:len(text)-1]
	}
	m := memoryPattern.FindStringSubmatch(text)
	if m == nil {
		return 0, &MemoryError{Value: s}
	}
	unit := m[2]
	if unit != "" {
		unit = strings.ToUpper(unit[:1]) + unit[1:]
	}
	mult, ok := memoryUnits[unit]
	if !ok {
		return 0, &MemoryError{Value: s}
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, &MemoryError{Value: s}
	}
	return bytesOf(f*mult, s)
}

// MemoryFromNumber converts a YAML number of bytes (possibly fractional) to
// whole bytes, truncating like Python's int().
func MemoryFromNumber(f float64) (int64, error) {
	return bytesOf(f, strconv.FormatFloat(f, 'g', -1, 64))
}

// bytesOf truncates f to an int64 byte count, rejecting negative and
// overflowing values.
func bytesOf(f float64, orig string) (int64, error) {
	if math.IsNaN(f) || f < 0 || f >= math.MaxInt64 {
		return 0, &MemoryError{Value: orig}
	}
	return int64(f), nil
}

// siUnits are the binary suffixes of FormatBytesSI, in increasing order.
var siUnits = [...]string{"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"}

// FormatBytesSI formats a byte count with the largest binary unit that keeps
// the number below 1024, using Python's "%g" (six significant digits,
// trailing zeros dropped): 123456789 is "117.738Mi", 12288 "12Ki",
// 1073741824 "1Gi", 1000 "1000".
func FormatBytesSI(n int64) string {
	f := float64(n)
	for i, unit := range siUnits {
		if math.Abs(f) < 1024 || i == len(siUnits)-1 {
			return strconv.FormatFloat(f, 'g', 6, 64) + unit
		}
		f /= 1024
	}
	panic("unreachable")
}
