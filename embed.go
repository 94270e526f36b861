package nublado

import "embed"

// CUE is the embedded CUE module: cue.mod (with the generated Kubernetes
// schemas), the input schemas under schema/ and the templates under
// templates/. The engine loads it once with [cuelang.org/go/cue/load] and an
// fs.FS, so rendering never touches the file system.
//
//go:embed cue.mod/module.cue schema/*.cue
var CUE embed.FS
