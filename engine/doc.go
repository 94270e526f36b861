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
// # Static parts
//
// [New] evaluates the whole package once, with the configuration filled in
// and the inputs still abstract. A render then re-evaluates only the
// template it fills, from scratch, at a cost of a few microseconds per field
// (see Performance). So what depends on the configuration alone belongs
// outside the templates, in hidden top-level fields (the lab's _cfg and
// _labStatic): it is evaluated once, and a template that refers to it by a
// plain reference (volumeMounts: _labStatic.labMounts) shares the evaluated
// value instead of evaluating a copy.
//
// # Export
//
// The rendered objects are converted to Go values by walking them through
// the cue.Value API, which costs microseconds per field too: Value.Fields
// sorts a struct's fields topologically, and every Fields, List and
// LookupPath call builds an evaluation context. (MarshalJSON, Decode and
// Syntax walk the same way; MarshalJSON followed by a JSON decode costs
// twice as much.) The exporter avoids most of the walk by reading the
// templates' source, which every value carries (Value.Source is the source
// of a value's only conjunct):
//
//   - A struct or list that is exactly a plain reference (a name followed by
//     selectors and indexes, checked with Value.ReferencePath) to a hidden
//     top-level field of the templates package is converted once per
//     Renderer: nothing outside a template depends on its input. A plain
//     reference to a field of the template being rendered (_resources,
//     input.namespace, also a scalar) is converted once per render. Later
//     occurrences get a copy, so callers may modify the objects.
//   - A struct whose only conjunct is a struct literal with plain field
//     names (no embedding, pattern, optional or required field, computed
//     label or field declared twice) has exactly the fields the literal
//     declares, plus those its comprehensions yield: the exporter takes the
//     names, the constants and the plain references from the source and
//     looks up only the other fields, instead of calling Value.Fields.
//
// Anything else is walked. The shortcuts are correct for any template;
// they pay off for templates written for them (see templates/lab.cue).
// TestExportShortcuts and TestExportLab compare every export with a plain
// walk, also where a shortcut must not apply.
//
// # Errors
//
// A render fails with [ErrUnknownTemplate] or a [*RenderError], which names
// the template, the object (Kind/name) and the field path of the first CUE
// error, and carries all of them; [RenderError.Details] prints them with
// their source positions for the edges (CLI output, HTTP bodies). The input
// is validated against the template's input schema first. The objects are
// not validated separately: the export meets every error and incomplete
// value, and only then are they validated, for CUE's report of the error.
//
// # Strict mode
//
// With [Strict], every rendered object is also unified with its Kubernetes
// API definition (#Pod, #ConfigMap, ...), looked up by apiVersion and kind in
// the #Kinds table of templates/kinds. A template that writes an unknown
// field or a value of the wrong type then fails naming the object and the
// field. Golden tests and `nublado render --strict` use it; the request path
// does not: it costs about fifteen times a plain render (see
// BenchmarkRenderLabStrict) and the API server validates on apply anyway.
//
// # Concurrency and memory
//
// A [Renderer] is safe for concurrent use. All renders share one cue.Context
// and one compiled module: cue.Value is immutable and safe for concurrent use
// since CUE v0.17, which TestConcurrentRenders and TestLabTemplateConcurrent
// check under the race detector with 16 goroutines. The exporter's caches
// (what it learnt about each source node, and the converted static values)
// are sync.Maps bounded by the size of the templates and the configuration;
// the per-render cache belongs to one render. Filling Go values into
// compiled templates does not grow the context: the live heap stays flat
// over any number of renders (TestMemoryFlat). The one thing that grows is
// CUE's process-wide table of labels (struct keys): every distinct key ever
// seen stays, about 75 bytes each, and rebuilding the context does not free
// it. Inputs must therefore not carry an unbounded variety of map keys; the
// lab's keys all come from the configuration or from JupyterHub's fixed set
// of environment variables.
//
// # Performance
//
// Rendering the lab of the site of testdata/lab/config.json
// (BenchmarkRenderLab, one core) costs about 1.8 ms of CPU, 0.7 MB and 5,000
// allocations; the conformance site (BenchmarkRenderLabConformance, tag
// conformance) about 1.9 ms. Of that, CUE evaluates for about 70%: the
// input (Encode and unification with #LabInput) about a fifth, the objects
// the rest, a few microseconds per field that is not shared, and with
// structure sharing nearly nothing for a shared one. The export takes about
// 20%, mostly the lookups of fields that are neither constants nor shared
// and copying the shared values. The garbage collector, fed by CUE's
// allocations (about 2 KB per evaluated field), takes a quarter of the
// total across both. What is left is CUE's cost per evaluated field: the
// objects have about 300 fields that depend on the input. Measured and not
// used: the evaluator options of CUE_DEBUG (sortfields saves 2%, opendef 7%
// but turns off closedness everywhere), filling an encoded cue.Value rather
// than the Go value (no difference).
package engine
