package nublado_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/nublado-go/nublado"

// pkg is the part of `go list -json` that the layering rules need.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

// listPackages returns every package of the module, test files excluded.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var pkgs []pkg
	dec := json.NewDecoder(out)
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err, "decoding go list output")
		}
		pkgs = append(pkgs, p)
	}
	require.NoError(t, cmd.Wait(), "go list ./...")
	return pkgs
}

func under(path, dir string) bool {
	p := module + "/" + dir
	return path == p || strings.HasPrefix(path, p+"/")
}

func hasPrefix(imports []string, prefixes ...string) []string {
	var bad []string
	for _, imp := range imports {
		for _, p := range prefixes {
			if imp == p || strings.HasPrefix(imp, p+"/") {
				bad = append(bad, imp)
			}
		}
	}
	return bad
}

// TestLayering enforces the layering rules of the style guide (rule 4) and the
// architecture: the render engine does no I/O, the apply engine knows no CUE,
// the server talks to the engine through an interface, and nothing below the
// server imports it.
func TestLayering(t *testing.T) {
	for _, p := range listPackages(t) {
		path := p.ImportPath
		if under(path, "engine") {
			require.Empty(t, hasPrefix(p.Imports, "net/http", "github.com/sirupsen/logrus"),
				"%s must not import net/http or logrus", path)
			require.Empty(t, hasPrefix(p.Deps, "k8s.io/client-go"),
				"%s must not depend on client-go", path)
		}
		if under(path, "apply") {
			require.Empty(t, hasPrefix(p.Deps, "cuelang.org/go"),
				"%s must not depend on CUE", path)
		}
		if under(path, "server") {
			require.Empty(t, hasPrefix(p.Imports, "cuelang.org/go", module+"/engine"),
				"%s must reach the engine through an interface", path)
		}
		if !under(path, "server") && !under(path, "cli") && !under(path, "internal") {
			require.Empty(t, hasPrefix(p.Imports, module+"/server"),
				"%s must not import server", path)
		}
		if path == module {
			require.Empty(t, hasPrefix(p.Imports, module+"/"),
				"the root package imports nothing of the project")
		}
	}
}
