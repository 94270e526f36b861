package purger

import (
	"errors"
	"fmt"
	"strings"
)

// ErrPlanNotReady is returned when reporting or purging without a plan.
var ErrPlanNotReady = errors.New("plan not ready")

// Report formats the plan as the purger logs it:
//
//	Directories considered:
//	  /scratch
//	  /scratch/foo/bar
//	  -> /scratch/large
//
// with "No matching files found." instead of the file lines when nothing is
// due, and just "No directories considered." for an empty policy. A nil plan
// is [ErrPlanNotReady].
func (p *Plan) Report() (string, error) {
	if p == nil {
		return "", fmt.Errorf("cannot report: %w", ErrPlanNotReady)
	}
	if len(p.Directories) == 0 {
		return "No directories considered.", nil
	}
	var b strings.Builder
	b.WriteString("Directories considered:\n")
	for _, d := range p.Directories {
		b.WriteString("  " + d + "\n")
	}
	if len(p.Files) == 0 {
		b.WriteString("No matching files found.\n")
	}
	for _, f := range p.Files {
		b.WriteString("  -> " + f.Path + "\n")
	}
	return b.String(), nil
}
