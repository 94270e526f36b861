package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExecuteExitCodes(t *testing.T) {
	cases := map[string]struct {
		args []string
		want int
	}{
		"version":         {[]string{"version"}, ExitOK},
		"unknown command": {[]string{"frobnicate"}, ExitUsage},
		"unknown flag":    {[]string{"version", "--nope"}, ExitUsage},
		"extra argument":  {[]string{"version", "x"}, ExitUsage},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := Execute(context.Background(), tc.args, nil, &out, &errb)
			assert.Equal(t, tc.want, got, "Execute(%q): stderr %q", tc.args, errb.String())
		})
	}
}
