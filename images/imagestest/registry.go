package imagestest

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Registry is go-containerregistry's in-memory registry served over plain
// HTTP by an httptest server. It can page tag lists itself (the in-memory
// registry's own n/last paging restarts from the first tag when last is
// the final one) and counts tag-page requests and manifest HEADs. Like a
// distribution registry, and unlike the bare in-memory one, deleting a
// manifest by digest also deletes the tags that point to it.
type Registry struct {
	// Server is the httptest server; URL is http://127.0.0.1:port.
	Server *httptest.Server
	// Host is the server's host:port.
	Host string

	pageSize int
	absolute bool

	mu    sync.Mutex
	pages int
	heads map[string]int
}

// RegistryOption configures a [Registry].
type RegistryOption func(*Registry)

// PageSize makes the registry answer tag lists in pages of n tags with a
// relative `Link: <…>; rel="next"` header.
func PageSize(n int) RegistryOption { return func(r *Registry) { r.pageSize = n } }

// AbsoluteLinks makes the next links absolute URLs.
func AbsoluteLinks() RegistryOption { return func(r *Registry) { r.absolute = true } }

// NewRegistry starts a registry that stops with the test.
func NewRegistry(t testing.TB, opts ...RegistryOption) *Registry {
	t.Helper()
	r := &Registry{heads: make(map[string]int)}
	for _, o := range opts {
		o(r)
	}
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.serve(inner, w, req)
	}))
	t.Cleanup(r.Server.Close)
	r.Host = strings.TrimPrefix(r.Server.URL, "http://")
	return r
}

// Transport returns a transport that connects to the registry whatever
// host a request names, so that references such as
// lighthouse.ceres/library/sketchbook reach it (over plain HTTP).
func (r *Registry) Transport() *http.Transport {
	addr := r.Server.Listener.Addr().String()
	return &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
}

// Push pushes a fixture into repository (host/path; the host may be any
// name, see [Registry.Transport]): tag → fixture digest, one random image
// per distinct fixture digest. It returns the real digest of each fixture
// digest. The request counts are reset afterwards.
func (r *Registry) Push(t testing.TB, repository string, fixture map[string]string) map[string]string {
	t.Helper()
	images := make(map[string]v1.Image)
	real := make(map[string]string)
	tags := make([]string, 0, len(fixture))
	for tag := range fixture {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	tr := r.Transport()
	defer tr.CloseIdleConnections()
	for _, tag := range tags {
		fake := fixture[tag]
		img, ok := images[fake]
		if !ok {
			var err error
			if img, err = random.Image(64, 1); err != nil {
				t.Fatalf("random image: %v", err)
			}
			images[fake] = img
			d, err := img.Digest()
			if err != nil {
				t.Fatalf("digest: %v", err)
			}
			real[fake] = d.String()
		}
		ref, err := name.NewTag(repository+":"+tag, name.Insecure)
		if err != nil {
			t.Fatalf("tag %q: %v", tag, err)
		}
		if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
			t.Fatalf("pushing %s: %v", ref, err)
		}
	}
	r.ResetCounts()
	return real
}

// Pages returns how many tag-list pages were served since the last reset
// (only counted when paging).
func (r *Registry) Pages() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pages
}

// Heads returns the manifest HEADs since the last reset, by tag or digest.
func (r *Registry) Heads() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.heads))
	for k, v := range r.heads {
		out[k] = v
	}
	return out
}

// ResetCounts forgets the requests counted so far.
func (r *Registry) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pages, r.heads = 0, make(map[string]int)
}

func (r *Registry) serve(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodHead && strings.Contains(req.URL.Path, "/manifests/") {
		r.mu.Lock()
		r.heads[req.URL.Path[strings.LastIndex(req.URL.Path, "/")+1:]]++
		r.mu.Unlock()
	}
	if req.Method == http.MethodDelete && strings.Contains(req.URL.Path, "/manifests/sha256:") {
		r.deleteManifest(inner, w, req)
		return
	}
	if r.pageSize == 0 || !strings.HasSuffix(req.URL.Path, "/tags/list") {
		inner.ServeHTTP(w, req)
		return
	}
	r.mu.Lock()
	r.pages++
	r.mu.Unlock()
	r.servePage(inner, w, req)
}

// deleteManifest deletes a manifest by digest and then every tag of the
// repository whose manifest has that digest.
func (r *Registry) deleteManifest(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	prefix, digest, _ := strings.Cut(req.URL.Path, "/manifests/")
	var tags []string
	if body, code := call(inner, req, http.MethodGet, prefix+"/tags/list"); code == http.StatusOK {
		var list struct {
			Tags []string `json:"tags"`
		}
		_ = json.Unmarshal(body, &list)
		for _, t := range list.Tags {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, request(req, http.MethodHead, prefix+"/manifests/"+t))
			if rec.Header().Get("Docker-Content-Digest") == digest {
				tags = append(tags, t)
			}
		}
	}
	inner.ServeHTTP(w, req)
	for _, t := range tags {
		call(inner, req, http.MethodDelete, prefix+"/manifests/"+t)
	}
}

// call sends a request to the inner registry and returns the body and
// status.
func call(inner http.Handler, orig *http.Request, method, path string) ([]byte, int) {
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, request(orig, method, path))
	return rec.Body.Bytes(), rec.Code
}

func request(orig *http.Request, method, path string) *http.Request {
	req := httptest.NewRequestWithContext(orig.Context(), method, path, nil)
	req.Host = orig.Host
	return req
}

// servePage answers a tag list with one page of the full list, starting
// after the tag in the "last" query parameter.
func (r *Registry) servePage(inner http.Handler, w http.ResponseWriter, req *http.Request) {
	full := req.Clone(req.Context())
	full.URL.RawQuery = ""
	rec := httptest.NewRecorder()
	inner.ServeHTTP(rec, full)
	var body struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	tags := body.Tags
	if last := req.URL.Query().Get("last"); last != "" {
		i := sort.SearchStrings(tags, last)
		for i < len(tags) && tags[i] <= last {
			i++
		}
		tags = tags[i:]
	}
	if len(tags) > r.pageSize {
		tags = tags[:r.pageSize]
		next := req.URL.Path + "?" + url.Values{"last": {tags[len(tags)-1]}}.Encode()
		if r.absolute {
			next = "http://" + req.Host + next
		}
		w.Header().Set("Link", `<`+next+`>; rel="next"`)
	}
	body.Tags = tags
	out, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}
