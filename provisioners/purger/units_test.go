package purger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	cases := map[string]struct {
		in      any
		want    int64
		wantErr bool
	}{
		"Int":                 {in: 10, want: 10},
		"JSONInt":             {in: json.Number("4096"), want: 4096},
		"IntegralFloat":       {in: json.Number("10.0"), want: 10},
		"Float64Integral":     {in: 12.0, want: 12},
		"FractionalFloat":     {in: json.Number("10.5"), wantErr: true},
		"Negative":            {in: json.Number("-5"), want: -5},
		"IntString":           {in: "42", want: 42},
		"Bytes":               {in: "10B", want: 10},
		"LowerB":              {in: "10b", want: 10},
		"SpaceBeforeB":        {in: " 10 B ", want: 10},
		"PlainFloatRoundsUp":  {in: "1.5", want: 2},
		"PlainFloatRoundDown": {in: "1.4", want: 1},
		"NegativeHalfAway":    {in: "-1.5", want: -2},
		"DecimalUnit":         {in: "1.5k", want: 1500},
		"UpperK":              {in: "2K", want: 2000},
		"Mega":                {in: "3M", want: 3_000_000},
		"GigaBytes":           {in: "1GB", want: 1_000_000_000},
		"Tera":                {in: "1T", want: 1_000_000_000_000},
		"Peta":                {in: "1P", want: 1_000_000_000_000_000},
		"Exa":                 {in: "1E", want: 1_000_000_000_000_000_000},
		"DecimalFractional":   {in: "1.2345k", wantErr: true},
		"ExactDecimal":        {in: "1.1k", want: 1100},
		"Kibi":                {in: "1ki", want: 1024},
		"KibiUpper":           {in: "1Ki", want: 1024},
		"GibiBytes":           {in: "1GiB", want: 1 << 30},
		"GibiSpaces":          {in: "1 GiB", want: 1 << 30},
		"BinaryRounds":        {in: "1.0001Ki", want: 1024},
		"BinaryHalfUp":        {in: "0.5Ki", want: 512},
		"MebiFraction":        {in: "0.75Mi", want: 786432},
		"Tebi":                {in: "2Ti", want: 2 << 40},
		"Pebi":                {in: "1Pi", want: 1 << 50},
		"Exbi":                {in: "1Ei", want: 1 << 60},
		"ExaOverflow":         {in: "10Ei", wantErr: true},
		"UnknownUnit":         {in: "10X", wantErr: true},
		"Empty":               {in: "", wantErr: true},
		"OnlyB":               {in: "B", wantErr: true},
		"Fraction":            {in: "1/2", wantErr: true},
		"Infinity":            {in: "inf", wantErr: true},
		"Bool":                {in: true, wantErr: true},
		"Nil":                 {in: nil, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalidSize, "ParseSize(%#v) = %d", tc.in, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ParseSize(%#v)", tc.in)
		})
	}
}

func TestParseSizeMessage(t *testing.T) {
	_, err := ParseSize("1.2345k")
	assert.EqualError(t, err, `invalid size: could not convert "1.2345k" to integer`)
}

func TestParseDurationString(t *testing.T) {
	day := 24 * time.Hour
	cases := map[string]struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		"Days":          {in: "3650d", want: 3650 * day},
		"WeeksDays":     {in: "1w2d", want: 9 * day},
		"AllUnits":      {in: "1w2d3h4m5s", want: 9*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		"LongNames":     {in: "2weeks 1day 3hours 4minutes 5seconds", want: 15*day + 3*time.Hour + 4*time.Minute + 5*time.Second},
		"Singular":      {in: "1week 1hour 1minute 1second", want: 7*day + time.Hour + time.Minute + time.Second},
		"Abbreviations": {in: "2hr 3mins 4secs", want: 2*time.Hour + 3*time.Minute + 4*time.Second},
		"Min":           {in: "5min 1sec", want: 5*time.Minute + time.Second},
		"Spaces":        {in: "  4h 3minutes ", want: 4*time.Hour + 3*time.Minute},
		"SpaceInside":   {in: "4 h", want: 4 * time.Hour},
		"Zero":          {in: "0s", want: 0},
		"PlainNumber":   {in: "3600", wantErr: true},
		"WrongOrder":    {in: "1h1d", wantErr: true},
		"Empty":         {in: "", wantErr: true},
		"Blank":         {in: "   ", wantErr: true},
		"ISO":           {in: "P1D", wantErr: true},
		"Negative":      {in: "-1d", wantErr: true},
		"Fractional":    {in: "1.5h", wantErr: true},
		"Uppercase":     {in: "1D", wantErr: true},
		"Overflow":      {in: "99999999999w", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDurationString(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalidDuration, "ParseDurationString(%q) = %v", tc.in, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ParseDurationString(%q)", tc.in)
		})
	}
}

func TestParseDuration(t *testing.T) {
	cases := map[string]struct {
		in      any
		want    time.Duration
		wantErr bool
	}{
		"Nil":              {in: nil, want: 0},
		"Int":              {in: 60, want: time.Minute},
		"JSONInt":          {in: json.Number("3600"), want: time.Hour},
		"JSONFloat":        {in: json.Number("1.5"), want: 1500 * time.Millisecond},
		"Float64":          {in: 0.25, want: 250 * time.Millisecond},
		"NumericString":    {in: "86400", want: 24 * time.Hour},
		"FloatString":      {in: " 2.5 ", want: 2500 * time.Millisecond},
		"DurationString":   {in: "30d", want: 30 * 24 * time.Hour},
		"NegativeNumber":   {in: json.Number("-1"), wantErr: true},
		"NegativeString":   {in: "-5", wantErr: true},
		"Garbage":          {in: "soon", wantErr: true},
		"Bool":             {in: false, wantErr: true},
		"NaN":              {in: "nan", wantErr: true},
		"HugeSeconds":      {in: json.Number("1e20"), wantErr: true},
		"ExponentNotation": {in: "1e3", want: 1000 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseDuration(tc.in)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrInvalidDuration, "ParseDuration(%#v) = %v", tc.in, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "ParseDuration(%#v)", tc.in)
		})
	}
}
