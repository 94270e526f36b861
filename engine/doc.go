// Package engine renders Kubernetes objects from nublado's CUE templates.
//
// The CUE module (cue.mod, schema/ and templates/, see [nublado.CUE]) is
// loaded once from an [io/fs.FS] by [New]; nothing is read from the host file
// system and no network is used. A template is a top-level field of the
// templates package with two fields:
//
//	lab: {
//		input: schema.#LabInput // what the caller fills in
//		objects: [...{...}]     // the Kubernetes objects, in apply order
//	}
//
// [Renderer.Render] unifies one input value with a template's input field and
// returns the template's objects list as [unstructured.Unstructured] values,
// in the order of the list (the apply order). The input is a Go value (a
// struct with json tags, a map, or anything JSON-marshallable) converted the
// way [cuelang.org/go/cue.Context.Encode] converts it. Everything CUE does
// badly (Kubernetes quantities, Python-formatted floats, byte-exact JSON
// strings) is computed in Go while building the input; the templates only
// arrange it.
//
// Rendering is pure: no I/O, no clock, no randomness, so the same input gives
// byte-identical output from [MarshalYAML] and [MarshalJSON]. A [Renderer] is
// safe for concurrent use.
//
// # Strict mode
//
// With [Strict], every rendered object is also unified with its Kubernetes API
// definition (#Pod, #ConfigMap, ... generated into cue.mod/gen by `make gen`),
// chosen by apiVersion and kind through the #Kinds table of the kinds package
// (templates/kinds). A template that writes an unknown field or a value of
// the wrong type then fails with a [*RenderError] naming the object and the
// field. Golden tests and `nublado render --strict` use it; the request path
// does not, because it triples the cost of a render and the API server
// validates the objects on apply anyway.
//
// # Memory
//
// A cue.Context keeps every label it has ever seen, so a long-lived context
// grows with the variety of its inputs. The renderer therefore builds the
// templates into a fresh context after a number of renders ([RecycleAfter])
// and drops the old one once the renders using it have finished; the heap
// stays flat over any number of renders.
package engine
