package events

import (
	"strconv"
	"strings"
	"unicode/utf16"

	nublado "github.com/nublado-go/nublado"
)

// Data returns the SSE data line of ev as Python's json.dumps writes
// {"message": ..., "progress": ...}: separators ", " and ": ", non-ASCII
// characters escaped as \uXXXX (lower-case hex, surrogate pairs above the
// BMP), and progress left out when it is 0.
func Data(ev nublado.Event) string {
	var b strings.Builder
	b.WriteString(`{"message": `)
	writePythonString(&b, ev.Message)
	if ev.Progress != 0 {
		b.WriteString(`, "progress": `)
		b.WriteString(strconv.Itoa(ev.Progress))
	}
	b.WriteByte('}')
	return b.String()
}

const hexDigits = "0123456789abcdef"

// writePythonString writes s as a JSON string with Python's ensure_ascii
// escaping: only the printable ASCII range ' '…'~' is written as is.
func writePythonString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			writeU(b, hi)
			writeU(b, lo)
		default:
			writeU(b, r)
		}
	}
	b.WriteByte('"')
}

func writeU(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}
