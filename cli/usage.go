package cli

import "strings"

// isCobraUsage recognises the errors cobra returns for a wrong command line
// that do not pass through the flag error function (unknown commands, wrong
// argument counts, missing required flags).
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{
		"unknown command",
		"required flag(s)",
		"accepts ",
		"requires at least",
		"requires at most",
		"received ",
		"invalid argument",
	} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
