package server

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	nublado "github.com/nublado-go/nublado"
)

// FuzzParseCreateBody feeds arbitrary bytes to the create-body parser
// (seed corpus in testdata/fuzz/FuzzParseCreateBody). It must never panic;
// a refusal must be a 422 body (a *ValidationError whose entries have a
// type, a message and a loc under "body", and which marshals); an accepted
// body must satisfy the request's invariants and parse to the same request
// once written back in canonical form.
func FuzzParseCreateBody(f *testing.F) {
	f.Add([]byte(withOptions(`{"image_list": ["use_image_from_dropdown"], "image_dropdown": ["` + imageRef + `"], "size": ["Small"]}`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseCreateBody(data)
		if err != nil {
			checkRefusal(t, data, err)
			return
		}
		checkRequest(t, data, req)
		again, err := ParseCreateBody(canonicalBody(t, req))
		if err != nil {
			t.Fatalf("ParseCreateBody(canonical form of %q): %v", data, err)
		}
		if !equalRequests(req, again) {
			t.Fatalf("ParseCreateBody(%q) = %+v, but its canonical form parses to %+v", data, req, again)
		}
	})
}

func checkRefusal(t *testing.T, data []byte, err error) {
	t.Helper()
	verr, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("ParseCreateBody(%q): error %T %v, want *ValidationError", data, err, err)
	}
	if len(verr.Detail) == 0 {
		t.Fatalf("ParseCreateBody(%q): empty detail", data)
	}
	for _, d := range verr.Detail {
		if d.Type == "" || d.Msg == "" || len(d.Loc) == 0 || d.Loc[0] != "body" {
			t.Fatalf("ParseCreateBody(%q): malformed entry %+v", data, d)
		}
	}
	if _, err := marshalValue(verr); err != nil {
		t.Fatalf("ParseCreateBody(%q): marshalling the 422 body: %v", data, err)
	}
}

func checkRequest(t *testing.T, data []byte, req nublado.CreateRequest) {
	t.Helper()
	fail := func(what string) { t.Fatalf("ParseCreateBody(%q) = %+v: %s", data, req, what) }
	if !slices.Contains(labSizes, string(req.Size)) {
		fail("size not one of the sizes")
	}
	img := req.Image
	switch img.Attribute {
	case nublado.ImageList, nublado.ImageDropdown, nublado.ImageTag:
	case nublado.ImageClass:
		if !slices.Contains(imageClasses, img.Value) {
			fail("unknown image class")
		}
	default:
		fail("no image attribute")
	}
	if img.Value == "" || img.Attribute == nublado.ImageList && img.Value == dropdownSentinel {
		fail("empty image value")
	}
	if len(req.Env) > MaxEnvKeys {
		fail("too many env keys")
	}
	for k, v := range req.Env {
		if checkEnvKey(k) != nil || len(v) > MaxEnvValueBytes {
			fail("env key or value out of bounds")
		}
	}
	if !strings.HasPrefix(req.Env[servicePrefixVar], "/") {
		fail("service prefix is not a path")
	}
	if req.User.Username != "" || req.Token != "" {
		fail("user or token set from a body")
	}
}

// canonicalBody writes a request back as a create body, every option a
// one-element list as JupyterHub's form data sends it.
func canonicalBody(t *testing.T, req nublado.CreateRequest) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{
		"options": map[string]any{
			"size":              []string{string(req.Size)},
			"enable_debug":      []bool{req.EnableDebug},
			"reset_user_env":    []bool{req.ResetUserEnv},
			req.Image.Attribute: []string{req.Image.Value},
		},
		"env": req.Env,
	})
	if err != nil {
		t.Fatalf("marshalling %+v: %v", req, err)
	}
	return body
}

func equalRequests(a, b nublado.CreateRequest) bool {
	return a.Size == b.Size && a.EnableDebug == b.EnableDebug && a.ResetUserEnv == b.ResetUserEnv &&
		a.Image == b.Image && maps.Equal(a.Env, b.Env)
}
