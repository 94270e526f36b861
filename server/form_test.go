package server_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"gotest.tools/v3/golden"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server"
)

// fakeImages is a hand-written server.Images.
type fakeImages struct {
	menu, dropdown    []server.MenuEntry
	spawner, prepulls any
	err               error
}

var _ server.Images = (*fakeImages)(nil)

func (f *fakeImages) LabFormImages(context.Context) ([]server.MenuEntry, []server.MenuEntry, error) {
	return f.menu, f.dropdown, f.err
}

func (f *fakeImages) SpawnerImages(context.Context) (any, error) { return f.spawner, f.err }

func (f *fakeImages) Prepulls(context.Context) (any, error) { return f.prepulls, f.err }

const sketchbook = "lighthouse.ceres/library/sketchbook"

// standardImages are the menu and drop-down of the conformance setting
// (standard.yaml, registry/docker.json, nodes/standard.json).
func standardImages() *fakeImages {
	return &fakeImages{
		menu: []server.MenuEntry{{Reference: sketchbook + ":recommended@sha256:5678", Name: "Recommended (Weekly 2077_43)"}},
		dropdown: []server.MenuEntry{
			{Reference: sketchbook + ":recommended@sha256:5678", Name: "Recommended (Weekly 2077_43)"},
			{Reference: sketchbook + ":w_2077_43@sha256:5678", Name: "Weekly 2077_43"},
			{Reference: sketchbook + ":d_2077_10_23@sha256:1234", Name: "Daily 2077_10_23"},
			{Reference: sketchbook + ":latest_weekly", Name: "latest_weekly"},
			{Reference: sketchbook + ":latest_daily", Name: "latest_daily"},
		},
	}
}

const unavailablePage = "<h2>Notebooks unavailable</h2>\n<p>Creating a new Nublado notebook is currently unavailable.</p>"

func TestLabForm(t *testing.T) {
	noQuota := rachel()
	noQuota.Quota = nil
	small := rachel()
	small.Quota.Notebook = &nublado.NotebookQuota{CPU: 2, Memory: 8, Spawn: true}
	tiny := rachel()
	tiny.Quota.Notebook = &nublado.NotebookQuota{CPU: 0.5, Memory: 64, Spawn: true}
	users := defaultUsers()
	users["tok-noquota"], users["tok-small"], users["tok-tiny"] = noQuota, small, tiny
	twoImages := standardImages()
	twoImages.menu = append(twoImages.menu, server.MenuEntry{Reference: sketchbook + ":w_2077_43@sha256:5678", Name: "Weekly 2077_43 <&\"'>"})
	cases := map[string]struct {
		user, token string
		defaultSize string
		images      *fakeImages
		golden      string
		want        string
	}{
		// Quota 2 CPU / 8 GiB: small and medium; the first is checked. (The
		// conformance test checks rachel's 9 CPU / 27 GiB form.)
		"QuotaLimited": {user: "rachel", token: "tok-small", images: standardImages(), golden: "lab_form_quota.html"},
		// No quota: every size; the configured default is checked; two menu
		// images (escaped); the first is checked.
		"DefaultSize": {user: "rachel", token: "tok-noquota", defaultSize: "medium", images: twoImages, golden: "lab_form_default_size.html"},
		// A default the quota does not allow falls back to the first size.
		"DefaultNotAllowed": {user: "rachel", token: "tok-small", defaultSize: "huge", images: standardImages(), golden: "lab_form_quota.html"},
		// Empty menu: the drop-down sentinel is checked.
		"EmptyMenu":  {user: "rachel", token: "tok-rachel", images: &fakeImages{dropdown: standardImages().dropdown}, golden: "lab_form_empty_menu.html"},
		"SpawnFalse": {user: "ribbon", token: "tok-ribbon", images: standardImages(), want: unavailablePage},
		"NoSizeFits": {user: "rachel", token: "tok-tiny", images: standardImages(), want: unavailablePage},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Lab.DefaultSize = tc.defaultSize
			e := newEnv(t, cfg, &fakeLabs{t: t}, users, server.WithImages(tc.images))
			w := e.do(request{path: "/nublado/spawner/v1/lab-form/" + tc.user, headers: as(tc.user, tc.token)})
			assert.Equal(t, http.StatusOK, w.Code)
			assert.Equal(t, "text/html; charset=utf-8", w.Header().Get("Content-Type"))
			if tc.golden != "" {
				golden.Assert(t, w.Body.String(), tc.golden)
			} else {
				assert.Equal(t, tc.want, w.Body.String())
			}
		})
	}
}

func TestLabFormErrors(t *testing.T) {
	cases := map[string]struct {
		path    string
		headers map[string]string
		images  server.Images
		status  int
		want    string
	}{
		"WrongPathUser":      {path: "ribbon", headers: as("rachel", "tok-rachel"), status: 403, want: permissionDenied},
		"HeaderNotTokenUser": {path: "ribbon", headers: as("ribbon", "tok-rachel"), status: 403, want: permissionDenied},
		"InvalidToken":       {path: "ribbon", headers: as("rachel", "tok-nope"), status: 401, want: invalidToken},
		"MissingToken":       {path: "rachel", headers: as("rachel", ""), status: 422, want: `{"detail":[` + missingToken + `]}`},
		"NoImageService":     {path: "rachel", headers: as("rachel", "tok-rachel"), status: 404, want: `{"detail":[{"msg":"Image service is not available","type":"not_supported"}]}`},
		"ImageServiceError":  {path: "rachel", headers: as("rachel", "tok-rachel"), images: &fakeImages{err: errors.New("boom")}, status: 500},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var opts []server.Option
			if tc.images != nil {
				opts = append(opts, server.WithImages(tc.images))
			}
			e := newEnv(t, nil, &fakeLabs{t: t}, nil, opts...)
			w := e.do(request{path: "/nublado/spawner/v1/lab-form/" + tc.path, headers: tc.headers})
			assert.Equal(t, tc.status, w.Code)
			if tc.want != "" {
				assert.JSONEq(t, tc.want, w.Body.String())
			}
		})
	}
}

func TestImageRoutes(t *testing.T) {
	im := &fakeImages{
		spawner:  map[string]any{"all": []any{map[string]any{"reference": sketchbook + ":w_2077_43", "tag": "w_2077_43"}}},
		prepulls: map[string]any{"images": map[string]any{"prepulled": []any{}, "pending": []any{}}, "nodes": []any{}},
	}
	e := newEnv(t, nil, &fakeLabs{t: t}, nil, server.WithImages(im))
	w := e.do(request{path: "/nublado/spawner/v1/images"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"all":[{"reference":"`+sketchbook+`:w_2077_43","tag":"w_2077_43"}]}`, w.Body.String())
	w = e.do(request{path: "/nublado/spawner/v1/prepulls"})
	assert.Equal(t, http.StatusOK, w.Code)
	assert.JSONEq(t, `{"images":{"prepulled":[],"pending":[]},"nodes":[]}`, w.Body.String())

	im.err = errors.New("boom")
	assert.Equal(t, http.StatusInternalServerError, e.do(request{path: "/nublado/spawner/v1/images"}).Code)
	assert.Equal(t, http.StatusInternalServerError, e.do(request{path: "/nublado/spawner/v1/prepulls"}).Code)

	e = newEnv(t, nil, &fakeLabs{t: t}, nil)
	w = e.do(request{path: "/nublado/spawner/v1/images"})
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.JSONEq(t, `{"detail":[{"msg":"Image service is not available","type":"not_supported"}]}`, w.Body.String())
}
