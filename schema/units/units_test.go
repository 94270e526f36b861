package units

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	cases := map[string]struct {
		in   string
		want time.Duration
	}{
		"seconds":          {"90", 90 * time.Second},
		"fractional":       {"0.1", 100 * time.Millisecond},
		"hours":            {"2h", 2 * time.Hour},
		"hours minutes":    {"4h 3minutes", 4*time.Hour + 3*time.Minute},
		"weeks days":       {"5w4d", 5*7*24*time.Hour + 4*24*time.Hour},
		"all units":        {"1w 1d 1hr 1min 1sec", 8*24*time.Hour + time.Hour + time.Minute + time.Second},
		"long names":       {"2 weeks 3 days", 17 * 24 * time.Hour},
		"trimmed":          {"  10m ", 10 * time.Minute},
		"minute vs months": {"3m", 3 * time.Minute},
		"empty is zero":    {"", 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			require.NoError(t, err, "ParseDuration(%q)", tc.in)
			assert.Equal(t, tc.want, got, "ParseDuration(%q)", tc.in)
		})
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{"PT1H", "1y", "3m2h", "nope", "1.5h", "inf"} {
		_, err := ParseDuration(in)
		var de *DurationError
		require.ErrorAs(t, err, &de, "ParseDuration(%q)", in)
		assert.Equal(t, in, de.Value)
	}
}

func TestParseMemory(t *testing.T) {
	cases := map[string]int64{
		"12":     12,
		"12K":    12000,
		"12k":    12000,
		"12Ki":   12288,
		"12M":    12000000,
		"12Mi":   12582912,
		"12MiB":  12582912,
		"12MB":   12000000,
		"1Gi":    1073741824,
		"0.75Gi": 805306368,
		"6.7Gi":  7194070220,
		"64ki":   65536,
		"1.5":    1,
		"3Ei":    3 << 60,
		"12b":    12,
	}
	for in, want := range cases {
		got, err := ParseMemory(in)
		require.NoError(t, err, "ParseMemory(%q)", in)
		assert.Equal(t, want, got, "ParseMemory(%q)", in)
	}
}

func TestParseMemoryRejects(t *testing.T) {
	for _, in := range []string{"nope", "24D", "12KI", "-1Gi", "12 Xi", "", "9Ei", "1e3"} {
		_, err := ParseMemory(in)
		var me *MemoryError
		require.ErrorAs(t, err, &me, "ParseMemory(%q)", in)
		assert.Contains(t, err.Error(), "not a valid memory quantity")
	}
}

func TestMemoryFromNumber(t *testing.T) {
	n, err := MemoryFromNumber(1.5e9)
	require.NoError(t, err)
	assert.Equal(t, int64(1500000000), n)
	_, err = MemoryFromNumber(-1)
	require.Error(t, err)
}

func TestFormatBytesSI(t *testing.T) {
	cases := map[int64]string{
		123456789:  "117.738Mi",
		12288:      "12Ki",
		1073741824: "1Gi",
		1000:       "1000",
		0:          "0",
		1536:       "1.5Ki",
		3 << 60:    "3Ei",
	}
	for in, want := range cases {
		assert.Equal(t, want, FormatBytesSI(in), "FormatBytesSI(%d)", in)
	}
}

func TestParseCPU(t *testing.T) {
	cases := map[string]float64{
		"450m":  0.45,
		"1450m": 1.45,
		"1":     1,
		"1.5":   1.5,
		"1.234": 1.234,
		".5":    0.5,
		"0m":    0,
	}
	for in, want := range cases {
		got, err := ParseCPU(in)
		require.NoError(t, err, "ParseCPU(%q)", in)
		assert.InDelta(t, want, float64(got), 1e-12, "ParseCPU(%q)", in)
	}
}

func TestParseCPURejects(t *testing.T) {
	want := "CPU must be specified as a whole number of milli-cores, like 500m, " +
		"or a decimal number with no more than three places of precision, like 1.234"
	for _, in := range []string{"1.2345", "1.2m", "nope", "-1", "1e3", ""} {
		_, err := ParseCPU(in)
		var ce *CPUError
		require.ErrorAs(t, err, &ce, "ParseCPU(%q)", in)
		assert.Equal(t, want, err.Error())
	}
}

func TestCPUFromNumber(t *testing.T) {
	c, err := CPUFromNumber(0.25)
	require.NoError(t, err)
	assert.Equal(t, CPU(0.25), c)
	for _, bad := range []float64{1.2345, -0.5} {
		_, err := CPUFromNumber(bad)
		require.Error(t, err, "CPUFromNumber(%v)", bad)
	}
}

func TestCPUFormatting(t *testing.T) {
	cases := map[float64]string{
		1:       "1.0",
		0.25:    "0.25",
		12:      "12.0",
		1.45:    "1.45",
		0.45:    "0.45",
		2.25:    "2.25",
		1e-5:    "1e-05",
		1e16:    "1e+16",
		1234567: "1234567.0",
		0:       "0.0",
	}
	for in, want := range cases {
		assert.Equal(t, want, CPU(in).String(), "CPU(%v).String()", in)
		b, err := json.Marshal(CPU(in))
		require.NoError(t, err)
		assert.Equal(t, want, string(b), "json.Marshal(CPU(%v))", in)
	}
	assert.Equal(t, int64(450), CPU(0.45).Millicores())
}

func TestQuantities(t *testing.T) {
	b, err := QuantityBytes("134217728k")
	require.NoError(t, err)
	assert.Equal(t, int64(134217728000), b)
	b, err = QuantityBytes("1.5Gi")
	require.NoError(t, err)
	assert.Equal(t, int64(1610612736), b)
	c, err := QuantityCPU("500m")
	require.NoError(t, err)
	assert.Equal(t, CPU(0.5), c)
	c, err = QuantityCPU("2")
	require.NoError(t, err)
	assert.Equal(t, "2.0", c.String())
	_, err = ParseQuantity("24D")
	require.Error(t, err)
	_, err = QuantityCPU("nope")
	require.Error(t, err)
}
