package deploy_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct{ cmd, args string }

// stages parses ../Dockerfile (comments and line continuations, no
// heredocs) into its global instructions (before the first FROM) and its
// stages.
func stages(t *testing.T) (global []instruction, stages [][]instruction) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "Dockerfile"))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var line string
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "#") || (l == "" && line == "") {
			continue
		}
		if cont, ok := strings.CutSuffix(l, "\\"); ok {
			line += cont + " "
			continue
		}
		line += l
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.Join(strings.Fields(args), " ")}
		line = ""
		switch {
		case in.cmd == "FROM":
			stages = append(stages, []instruction{in})
		case len(stages) == 0:
			global = append(global, in)
		default:
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	require.NoError(t, sc.Err())
	return global, stages
}

func find1(t *testing.T, stage []instruction, cmd string) []string {
	t.Helper()
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

// TestDockerfile checks what a Docker build cannot be run here to show:
// a multi-stage build of a static binary (no cgo) of ./cli/nublado, a
// distroless runtime base, a non-root numeric user equal to the
// Deployment's, and the binary where the Deployment's command and the lab
// templates' init containers ("nublado …") find it on the image's PATH.
func TestDockerfile(t *testing.T) {
	global, st := stages(t)
	require.Len(t, st, 2, "a build stage and a runtime stage")
	builder, runtime := st[0], st[1]

	require.True(t, strings.HasSuffix(builder[0].args, " AS build"), "the first stage is named build: %s", builder[0].args)
	assert.True(t, strings.HasPrefix(builder[0].args, "golang:"), builder[0].args)
	assert.Contains(t, strings.Join(find1(t, builder, "ENV"), " "), "CGO_ENABLED=0")
	runs := strings.Join(find1(t, builder, "RUN"), "\n")
	assert.Contains(t, runs, "go build")
	assert.Contains(t, runs, "-o /out/nublado ./cli/nublado")
	assert.Contains(t, runs, "-X github.com/nublado-go/nublado/cli.Version=")
	_, err := os.Stat(filepath.Join("..", "cli", "nublado", "main.go"))
	require.NoError(t, err, "the main package the Dockerfile builds")

	// The runtime base: an ARG before the first FROM, distroless.
	require.Equal(t, "${BASE}", runtime[0].args)
	var base string
	for _, in := range global {
		if v, ok := strings.CutPrefix(in.args, "BASE="); in.cmd == "ARG" && ok {
			base = v
		}
	}
	assert.True(t, strings.HasPrefix(base, "gcr.io/distroless/static"), "a distroless static base, not %q", base)
	assert.Equal(t, []string{"--from=build /out/nublado /usr/local/bin/nublado"}, find1(t, runtime, "COPY"))
	assert.Empty(t, find1(t, runtime, "RUN"), "nothing runs in the runtime stage (no shell in distroless)")
	for _, env := range find1(t, runtime, "ENV") {
		assert.NotContains(t, env, "PATH=", "distroless's PATH (with /usr/local/bin) is kept")
	}
	assert.Equal(t, []string{`["/usr/local/bin/nublado"]`}, find1(t, runtime, "ENTRYPOINT"))

	users := find1(t, runtime, "USER")
	require.Len(t, users, 1)
	uid, gid, _ := strings.Cut(users[0], ":")
	assert.NotEqual(t, "0", uid, "non-root")

	// The Deployment runs this image as that user, with "nublado" found on
	// the PATH in /usr/local/bin.
	for _, d := range find(build(t, "base"), "Deployment", "nublado-controller") {
		spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
		sc := spec["securityContext"].(map[string]any)
		assert.Equal(t, uid, itoa(sc["runAsUser"]), "the Deployment's user is the image's")
		assert.Equal(t, gid, itoa(sc["runAsGroup"]))
		c := spec["containers"].([]any)[0].(map[string]any)
		assert.Equal(t, "nublado", c["command"].([]any)[0])
	}
}

// itoa formats a number of an unstructured object.
func itoa(v any) string { return fmt.Sprint(v) }
