package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
)

// runCLI runs the nublado command tree built by NewRoot on args and returns
// the exit code and the output streams.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	log := logrus.New()
	log.SetOutput(&errb)
	root := NewRoot(log)
	root.SetArgs(args)
	root.SetIn(bytes.NewReader(nil))
	root.SetOut(&out)
	root.SetErr(&errb)
	code := ExitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err, &errb)
	}
	return code, out.String(), errb.String()
}

// jsonLines decodes the JSON log lines of a stream.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	dec := json.NewDecoder(bytes.NewBufferString(s))
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err, "log output %q", s)
		out = append(out, m)
	}
}

// events returns the "event" (message) of each JSON log line.
func events(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	for _, l := range jsonLines(t, s) {
		out = append(out, l["event"].(string))
	}
	return out
}
