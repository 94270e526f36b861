package server_test

import (
	"net/http"
	"testing"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// BenchmarkCreate is a create request through the whole handler: logging,
// routing, body parsing, auth with a cached user and the fake manager.
func BenchmarkCreate(b *testing.B) {
	labs := &fakeLabs{t: b, create: func(nublado.CreateRequest) error { return nil }}
	e := newEnv(b, nil, labs, nil)
	req := request{method: "POST", path: "/nublado/spawner/v1/labs/rachel/create", body: createBody, headers: as("rachel", "tok-rachel")}
	for b.Loop() {
		e.log.Reset()
		if w := e.do(req); w.Code != http.StatusCreated {
			b.Fatalf("create: status %d", w.Code)
		}
	}
}

// BenchmarkLabForm renders rachel's lab form.
func BenchmarkLabForm(b *testing.B) {
	e := newEnv(b, nil, &fakeLabs{t: b}, nil, server.WithImages(standardImages()))
	req := request{path: "/nublado/spawner/v1/lab-form/rachel", headers: as("rachel", "tok-rachel")}
	for b.Loop() {
		e.log.Reset()
		if w := e.do(req); w.Code != http.StatusOK {
			b.Fatalf("lab form: status %d", w.Code)
		}
	}
}

// BenchmarkGetLab serves a lab state.
func BenchmarkGetLab(b *testing.B) {
	e := newEnv(b, nil, &fakeLabs{t: b, state: stateOf("rachel")}, nil)
	req := request{path: "/nublado/spawner/v1/labs/rachel"}
	for b.Loop() {
		e.log.Reset()
		if w := e.do(req); w.Code != http.StatusOK {
			b.Fatalf("get lab: status %d", w.Code)
		}
	}
}
