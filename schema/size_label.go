package schema

import (
	"strings"

	"github.com/nublado-go/nublado/schema/units"
)

// Label returns the size's description as the lab form and the lab's
// CONTAINER_SIZE variable show it: "{Size-title-case} ({limits.cpu as a
// Python float} CPU, {bytes_to_si(limits.memory)} RAM)", e.g.
// "Small (1.0 CPU, 3Gi RAM)".
func (s LabSize) Label() string {
	return titleCase(s.Size) + " (" + s.Resources.Limits.CPU.String() + " CPU, " +
		units.FormatBytesSI(s.Resources.Limits.Memory) + " RAM)"
}

// titleCase is Python's str.title() for the ASCII size names: the first
// letter of each word upper case, the rest lower case.
func titleCase(s string) string {
	var b strings.Builder
	start := true
	for _, r := range s {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		switch {
		case isLetter && start:
			b.WriteString(strings.ToUpper(string(r)))
		case isLetter:
			b.WriteString(strings.ToLower(string(r)))
		default:
			b.WriteRune(r)
		}
		start = !isLetter
	}
	return b.String()
}
