package nublado

import "embed"

// CUE is the embedded CUE module: cue.mod (with the Kubernetes schemas
// generated into cue.mod/gen), the input schemas under schema/ and the
// templates under templates/. The engine loads it once from this fs.FS, so
// rendering never touches the file system.
//
//go:embed cue.mod/module.cue cue.mod/gen schema/*.cue templates
var CUE embed.FS
