package units

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
)

// The fuzz targets of this file run their seed corpora (testdata/fuzz) under
// plain go test; `make fuzz` runs each of them with -fuzz.

// FuzzParseDuration: ParseDuration never panics; a refusal is a
// *DurationError holding the input; an accepted value written back in the
// canonical NwNdNhNmNs form (whole non-negative seconds) or as decimal
// seconds parses to the same duration; the unit grammar never yields a
// negative duration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90", "0.1", "4h 3minutes", "5w4d", "", "-1.5", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			var derr *DurationError
			if !errors.As(err, &derr) || derr.Value != s {
				t.Fatalf("ParseDuration(%q): error %T %v, want *DurationError of the input", s, err, err)
			}
			return
		}
		if d < 0 && !isDecimal(strings.TrimSpace(s)) {
			t.Fatalf("ParseDuration(%q) = %v: only decimal seconds may be negative", s, d)
		}
		if d >= 0 && d%time.Second == 0 {
			checkDuration(t, s, d, canonicalDuration(d))
		}
		if math.Abs(float64(d)) < 1<<53 {
			checkDuration(t, s, d, decimalSeconds(d))
		}
	})
}

// checkDuration parses text, the written-back form of d (parsed from s).
func checkDuration(t *testing.T, s string, d time.Duration, text string) {
	t.Helper()
	again, err := ParseDuration(text)
	if err != nil || again != d {
		t.Fatalf("ParseDuration(%q) = %v, written back as %q parses to %v, %v", s, d, text, again, err)
	}
}

// canonicalDuration writes a whole, non-negative number of seconds in the
// unit grammar.
func canonicalDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	return fmt.Sprintf("%dw %dd %dh %dm %ds", secs/(7*86400), secs%(7*86400)/86400, secs%86400/3600, secs%3600/60, secs%60)
}

// decimalSeconds writes d as decimal seconds with nine decimals.
func decimalSeconds(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%d.%09d", sign, int64(d/time.Second), int64(d%time.Second))
}

// binaryQuantity is a memory string that Kubernetes and ParseMemory read
// the same way: whole digits and a binary suffix.
var binaryQuantity = regexp.MustCompile(`^[0-9]{1,15}(Ki|Mi|Gi|Ti|Pi|Ei)?$`)

// FuzzParseMemory: ParseMemory never panics; a refusal is a *MemoryError
// holding the input; an accepted value is non-negative and its decimal form
// reads back to itself; where the input is also a Kubernetes quantity of
// whole binary units, both parsers agree.
func FuzzParseMemory(f *testing.F) {
	for _, s := range []string{"12MiB", "0.75Gi", "12K", "64ki", "1024", "1.5e3", "9223372036854775807", "8Ei"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseMemory(s)
		if err != nil {
			var merr *MemoryError
			if !errors.As(err, &merr) || merr.Value != s {
				t.Fatalf("ParseMemory(%q): error %T %v, want *MemoryError of the input", s, err, err)
			}
			return
		}
		if n < 0 {
			t.Fatalf("ParseMemory(%q) = %d, negative", s, n)
		}
		if again, err := ParseMemory(strconv.FormatInt(n, 10)); err != nil || again != n {
			t.Fatalf("ParseMemory(%q) = %d, whose decimal form parses to %d, %v", s, n, again, err)
		}
		if binaryQuantity.MatchString(s) {
			k, err := QuantityBytes(s)
			if err == nil && k != n {
				t.Fatalf("ParseMemory(%q) = %d but Kubernetes reads %d", s, n, k)
			}
		}
	})
}

// FuzzParseCPU: ParseCPU never panics; a refusal is a *CPUError; an
// accepted value is finite and not negative, its JSON form is a number, and
// (below a trillion cores) its whole millicores read back to the same value.
func FuzzParseCPU(f *testing.F) {
	for _, s := range []string{"450m", "1.5", "2", ".125", "1.2345", "1.2m", " 3 ", "99999999999999999999m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCPU(s)
		if err != nil {
			var cerr *CPUError
			if !errors.As(err, &cerr) {
				t.Fatalf("ParseCPU(%q): error %T %v, want *CPUError", s, err, err)
			}
			return
		}
		f := float64(c)
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 {
			t.Fatalf("ParseCPU(%q) = %v, out of bounds", s, f)
		}
		if _, err := c.MarshalJSON(); err != nil {
			t.Fatalf("ParseCPU(%q) = %v does not marshal: %v", s, f, err)
		}
		if f < 1e12 {
			m := fmt.Sprintf("%dm", c.Millicores())
			if again, err := ParseCPU(m); err != nil || again != c {
				t.Fatalf("ParseCPU(%q) = %v, whose millicores %q parse to %v, %v", s, f, m, again, err)
			}
		}
	})
}

// FuzzParseQuantity: ParseQuantity never panics; a refusal wraps one of
// Kubernetes' quantity errors; an accepted quantity within the int64 range
// (beyond it Kubernetes' own canonical form is lossy: "10000E" prints as
// "10") reads back from its canonical string to an equal quantity;
// QuantityBytes and QuantityCPU either return the exact value (bytes
// rounded up, whole millicores) or fail with ErrQuantityRange, never a
// wrapped-around number.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"500m", "1.5Gi", "134217728k", "1e3", "-1", "0.1m", "9Ei"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			if !errors.Is(err, resource.ErrFormatWrong) && !errors.Is(err, resource.ErrNumeric) && !errors.Is(err, resource.ErrSuffix) {
				t.Fatalf("ParseQuantity(%q): error %v is not a Kubernetes quantity error", s, err)
			}
			return
		}
		inBytes := q.Cmp(*maxInt64) <= 0 && q.Cmp(*minInt64) >= 0
		if inBytes {
			again, err := ParseQuantity(q.String())
			if err != nil || again.Cmp(q) != 0 {
				t.Fatalf("ParseQuantity(%q) = %v, whose string form parses to %v, %v", s, q.String(), again.String(), err)
			}
		}
		n, err := QuantityBytes(s)
		switch {
		case !inBytes && !errors.Is(err, ErrQuantityRange):
			t.Fatalf("QuantityBytes(%q) = %d, %v: want ErrQuantityRange", s, n, err)
		case inBytes && (err != nil || !bytesMatch(q, n)):
			t.Fatalf("QuantityBytes(%q) = %d, %v: want the quantity rounded up", s, n, err)
		}
		inCores := q.Cmp(*maxCores) <= 0 && q.Cmp(*minCores) >= 0
		c, err := QuantityCPU(s)
		switch {
		case !inCores && !errors.Is(err, ErrQuantityRange):
			t.Fatalf("QuantityCPU(%q) = %v, %v: want ErrQuantityRange", s, c, err)
		case inCores && (err != nil || math.IsNaN(float64(c)) || math.IsInf(float64(c), 0) ||
			(c < 0) != (q.MilliValue() < 0)):
			t.Fatalf("QuantityCPU(%q) = %v, %v", s, c, err)
		}
	})
}

// bytesMatch reports whether n is q rounded up to a whole number: q <= n
// < q+1.
func bytesMatch(q resource.Quantity, n int64) bool {
	lo := resource.NewQuantity(n, resource.DecimalSI)
	if q.Cmp(*lo) > 0 {
		return false
	}
	if n == math.MinInt64 {
		return true
	}
	below := resource.NewQuantity(n-1, resource.DecimalSI)
	return q.Cmp(*below) > 0
}
