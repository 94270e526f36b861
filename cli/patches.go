package cli

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/nublado-go/nublado/engine"
)

// patchesUsage is the help of --patches, shared by serve, render, apply
// and diff.
const patchesUsage = "site patches file: kustomize patches (strategic merge or JSON 6902, with a target) applied to every rendered object"

// addPatchesFlag registers --patches on fs.
func addPatchesFlag(fs *pflag.FlagSet, path *string) {
	fs.StringVar(path, "patches", "", patchesUsage)
}

// patchesOptions reads a --patches file ("" for none) into the engine
// option that applies it.
func patchesOptions(path string) ([]engine.Option, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading --patches: %w", err)
	}
	p, err := engine.ParsePatches(data)
	if err != nil {
		return nil, fmt.Errorf("--patches %s: %w", path, err)
	}
	return []engine.Option{engine.WithPatches(p)}, nil
}
