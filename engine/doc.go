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
// A [Renderer] is safe for concurrent use. All renders share one compiled
// module: cue.Value is immutable and safe for concurrent use since CUE
// v0.17, which TestConcurrentRenders checks under the race detector with 16
// goroutines. A cue.Context however keeps every label (struct key) it has
// ever seen, so a context that renders inputs with ever new keys grows
// without bound (about 150 bytes per render in TestMemoryFlat when nothing
// is recycled). The renderer therefore rebuilds the module in a fresh
// context every [RecycleAfter] renders (default 1000; a rebuild costs a few
// milliseconds and no render waits for it) and drops the old context once
// the renders using it have finished, so the live heap stays flat however
// many renders a process makes.
package engine
