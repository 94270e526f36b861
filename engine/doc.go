// Package engine renders Kubernetes objects from nublado's CUE templates.
//
// [New] loads the CUE module (cue.mod with the Kubernetes schemas generated
// into cue.mod/gen, schema/ and templates/; the binary passes nublado.CUE)
// once from an [io/fs.FS] and compiles the templates. Nothing is read from the
// host file system and no network is used. Rendering is pure: no I/O, no
// clock, no randomness, so the same input gives byte-identical output from
// [MarshalYAML] and [MarshalJSON].
//
// # Templates
//
// The templates package may declare a top-level config field, filled once
// with the static configuration by the [Config] option. Every other
// top-level field with an input and an objects field is a template:
//
//	config: {lab: {...}, ...}     // schema.Config as JSON, filled by [Config]
//	lab: {
//		input: schema.#LabInput   // filled by every render
//		objects: [...{...}]       // the Kubernetes objects, in apply order
//	}
//
// [Renderer.Render] fills one input value into a template's input field and
// returns the template's objects list as [unstructured.Unstructured] values,
// in the order of the list (the apply order).
//
// Inputs and the configuration are Go values converted as
// [cuelang.org/go/cue.Context.Encode] converts them, which differs from
// encoding/json in two ways that matter: nil pointers, maps and slices are
// left out rather than written as null (declare such fields with a default,
// e.g. name: *null | string), and []byte becomes CUE bytes, which the
// objects carry base64-encoded (Secret data). Integers must be Go integers:
// a float64 (what encoding/json decodes numbers into) becomes a CUE float.
// Go computes everything CUE does badly or that must be byte-exact
// (quantities, Python-formatted floats, JSON strings) while building the
// input; the templates only arrange it.
//
// # Errors
//
// A render fails with [ErrUnknownTemplate] or a [*RenderError], which names
// the template, the object (Kind/name) and the field path of the first CUE
// error, and carries all of them; [RenderError.Details] prints them with
// their source positions for the edges (CLI output, HTTP bodies).
//
// # Strict mode
//
// With [Strict], every rendered object is also unified with its Kubernetes
// API definition (#Pod, #ConfigMap, ...), looked up by apiVersion and kind in
// the #Kinds table of templates/kinds. A template that writes an unknown
// field or a value of the wrong type then fails naming the object and the
// field. Golden tests and `nublado render --strict` use it; the request path
// does not: it costs five to eight times a plain render (see
// BenchmarkRenderLabStrict) and the API server validates on apply anyway.
//
// # Concurrency and memory
//
// A [Renderer] is safe for concurrent use. All renders share one cue.Context
// and one compiled module: cue.Value is immutable and safe for concurrent use
// since CUE v0.17, which TestConcurrentRenders and TestLabTemplateConcurrent
// check under the race detector with 16 goroutines. Filling Go values into
// compiled templates does not grow the context: the live heap stays flat
// over any number of renders (TestMemoryFlat). The one thing that grows is
// CUE's process-wide table of labels (struct keys): every distinct key ever
// seen stays, about 75 bytes each, and rebuilding the context does not free
// it. Inputs must therefore not carry an unbounded variety of map keys; the
// lab's keys all come from the configuration or from JupyterHub's fixed set
// of environment variables.
package engine
