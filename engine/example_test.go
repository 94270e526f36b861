package engine_test

import (
	"fmt"
	"testing/fstest"

	"github.com/nublado-go/nublado/engine"
)

// Example renders a one-object template from an in-memory CUE module. The
// binary passes nublado.CUE, the embedded module, instead.
func Example() {
	fsys := fstest.MapFS{
		"cue.mod/module.cue": {Data: []byte(`module: "example.com/labs@v0"
language: version: "v0.17.0"
`)},
		"templates/lab.cue": {Data: []byte(`package templates

lab: {
	input: {
		username: string
		uid:      int & >0
	}
	objects: [{
		apiVersion: "v1"
		kind:       "ConfigMap"
		metadata: {
			name:      "\(input.username)-nb-env"
			namespace: "userlabs-\(input.username)"
		}
		data: UID: "\(input.uid)"
	}]
}
`)},
	}
	r, err := engine.New(fsys)
	if err != nil {
		panic(err)
	}

	type labInput struct {
		Username string `json:"username"`
		UID      int    `json:"uid"`
	}
	objs, err := r.Render("lab", labInput{Username: "rachel", UID: 1101})
	if err != nil {
		panic(err)
	}
	out, err := engine.MarshalYAML(objs)
	if err != nil {
		panic(err)
	}
	fmt.Print(string(out))

	_, err = r.Render("lab", labInput{Username: "root", UID: 0})
	fmt.Println(err)
	// Output:
	// apiVersion: v1
	// data:
	//   UID: "1101"
	// kind: ConfigMap
	// metadata:
	//   name: rachel-nb-env
	//   namespace: userlabs-rachel
	// rendering template "lab": input.uid: invalid value 0 (out of bound >0)
}
