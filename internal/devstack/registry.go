package devstack

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// DefaultRepository is the repository the development registry serves.
const DefaultRepository = "lsst-sqre/sciplat-lab"

// Tag is a tag of the development repository and the image it points at:
// tags with the same Image share a manifest, hence a digest.
type Tag struct {
	Tag   string
	Image string
}

// DefaultTags is the development repository, RSP style: two releases,
// three weeklies, three dailies, the recommended alias (of the middle
// weekly), latest_weekly and latest_daily aliases, and two arch-specific
// tags of the newest weekly.
var DefaultTags = []Tag{
	{"r29_1_0", "r29_1_0"},
	{"r29_0_0", "r29_0_0"},
	{"w_2025_44", "w_2025_44"},
	{"w_2025_43", "w_2025_43"},
	{"w_2025_42", "w_2025_42"},
	{"d_2025_11_03", "d_2025_11_03"},
	{"d_2025_11_02", "d_2025_11_02"},
	{"d_2025_10_31", "d_2025_10_31"},
	{"recommended", "w_2025_43"},
	{"latest_weekly", "w_2025_44"},
	{"latest_daily", "d_2025_11_03"},
	{"w_2025_44-amd64", "w_2025_44-amd64"},
	{"w_2025_44-arm64", "w_2025_44-arm64"},
}

// dockerRegistry is the in-memory registry behind Basic authentication.
type dockerRegistry struct {
	inner              http.Handler
	username, password string
	// digests maps each tag to its manifest digest.
	digests map[string]string
}

// newDockerRegistry loads an in-memory registry with one small random
// image per distinct Image of tags, tagged in repository.
func newDockerRegistry(repository string, tags []Tag, username, password string) (*dockerRegistry, error) {
	r := &dockerRegistry{
		inner:    registry.New(registry.Logger(log.New(io.Discard, "", 0))),
		username: username, password: password,
		digests: make(map[string]string, len(tags)),
	}
	images := map[string]v1.Image{}
	tr := handlerTransport{r.inner}
	for _, t := range tags {
		img, ok := images[t.Image]
		if !ok {
			var err error
			if img, err = random.Image(512, 1); err != nil {
				return nil, fmt.Errorf("making image %q: %w", t.Image, err)
			}
			images[t.Image] = img
		}
		ref, err := name.NewTag("devstack.local/"+repository+":"+t.Tag, name.Insecure)
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", t.Tag, err)
		}
		if err := remote.Write(ref, img, remote.WithTransport(tr)); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", t.Tag, err)
		}
		d, err := img.Digest()
		if err != nil {
			return nil, fmt.Errorf("digest of %q: %w", t.Tag, err)
		}
		r.digests[t.Tag] = d.String()
	}
	return r, nil
}

// ServeHTTP serves the registry API to clients with the credentials; the
// others get 401 with a Basic challenge.
func (r *dockerRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	user, pass, ok := req.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(r.username)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(r.password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="nublado devstack"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	r.inner.ServeHTTP(w, req)
}

// handlerTransport serves requests with a handler in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	in := req.Clone(req.Context())
	if in.Body == nil {
		in.Body = http.NoBody // as a server request always has one
	}
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
