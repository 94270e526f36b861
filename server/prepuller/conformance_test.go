//go:build conformance

package prepuller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/internal/testcluster"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/events"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

// conformance is the conformance data of Nublado 15.1.0, read in place.
var conformance = filepath.Join("..", "..", "..", "shared", "conformance", "nublado-15.1.0")

func readConformance(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformance, rel))
	require.NoError(t, err)
	return data
}

// TestConformanceStandard: with standard.yaml, the registry of
// registry/docker.json and the nodes of nodes/standard.json (fake kwok
// nodes carrying those status.images), GET /spawner/v1/images is
// images/standard.json and rachel's lab form is html/lab-form.html.
// Fixture digests such as sha256:1234 are not valid digests, so the
// registry holds one real image per fixture digest and the nodes and the
// answers are translated.
func TestConformanceStandard(t *testing.T) {
	cfg, err := schema.Load(filepath.Join(conformance, "controller", "config", "standard.yaml"),
		schema.WithoutEnv())
	require.NoError(t, err)
	cfg.Images.DockerCredentialsPath = "" // the registry needs none
	var fixture map[string]string
	require.NoError(t, json.Unmarshal(readConformance(t, "registry/docker.json"), &fixture))
	reg := imagestest.NewRegistry(t)
	r := &registry{server: reg.Server, transport: reg.Transport(),
		real: reg.Push(t, cfg.Images.Source.Registry+"/"+cfg.Images.Source.Repository, fixture)}
	addConformanceNodes(t, r, "controller/nodes/standard.json")
	svc, _ := newService(t, cfg, r)
	require.NoError(t, svc.Refresh(context.Background()))

	log := logrus.New()
	log.SetOutput(io.Discard)
	var user nublado.User
	require.NoError(t, json.Unmarshal(readConformance(t, "controller/users/rachel.json"), &user))
	h := server.New(cfg, noLabs{t}, tokenUsers{"token-of-rachel": &user}, logrus.NewEntry(log), server.WithImages(svc))

	body := get(t, h, "/nublado/spawner/v1/images", nil)
	assert.JSONEq(t, string(readConformance(t, "controller/images/standard.json")), r.fake(body), "GET /spawner/v1/images")

	body = get(t, h, "/nublado/spawner/v1/lab-form/rachel", http.Header{
		"X-Auth-Request-User": {"rachel"}, "X-Auth-Request-Token": {"token-of-rachel"},
	})
	assert.Equal(t, string(readConformance(t, "controller/html/lab-form.html")), r.fake(body), "lab form: -want +got")
}

func get(t *testing.T, h http.Handler, path string, header http.Header) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	require.Equal(t, http.StatusOK, w.Code, "GET %s: %s", path, w.Body.String())
	return w.Body.String()
}

// addConformanceNodes adds the nodes of a conformance nodes file as kwok
// nodes, with fixture digests in image names replaced by real ones.
func addConformanceNodes(t *testing.T, r *registry, rel string) {
	t.Helper()
	var raw map[string]struct {
		Images []struct {
			Names     []string `json:"names"`
			SizeBytes int64    `json:"size_bytes"`
		} `json:"images"`
		Labels map[string]string `json:"labels"`
		Taints []corev1.Taint    `json:"taints"`
	}
	require.NoError(t, json.Unmarshal(readConformance(t, rel), &raw))
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	var nodes []testcluster.Node
	for _, name := range names {
		n := raw[name]
		node := testcluster.Node{Name: name, Labels: n.Labels, Taints: n.Taints}
		for _, img := range n.Images {
			var refs []string
			for _, ref := range img.Names {
				if at := strings.LastIndex(ref, "@"); at >= 0 {
					ref = ref[:at+1] + r.real[ref[at+1:]]
				}
				refs = append(refs, ref)
			}
			node.Images = append(node.Images, corev1.ContainerImage{Names: refs, SizeBytes: img.SizeBytes})
		}
		nodes = append(nodes, node)
	}
	addNodes(t, nodes...)
}

// noLabs is a server.Labs that the lab form and image routes never call.
type noLabs struct{ t *testing.T }

func (n noLabs) Running(context.Context) []string {
	n.t.Error("unexpected Labs.Running")
	return nil
}

func (n noLabs) State(context.Context, string) (*nublado.LabState, error) {
	n.t.Error("unexpected Labs.State")
	return nil, nublado.ErrLabNotFound
}

func (n noLabs) Create(context.Context, nublado.CreateRequest) error {
	n.t.Error("unexpected Labs.Create")
	return nil
}

func (n noLabs) Delete(context.Context, string) error {
	n.t.Error("unexpected Labs.Delete")
	return nil
}

func (n noLabs) Events(context.Context, string) (*events.Reader, error) {
	n.t.Error("unexpected Labs.Events")
	return nil, nublado.ErrLabNotFound
}

// tokenUsers answers user-info from a map of tokens.
type tokenUsers map[string]*nublado.User

func (u tokenUsers) UserInfo(_ context.Context, token string) (*nublado.User, error) {
	if user, ok := u[token]; ok {
		return user, nil
	}
	return nil, fmt.Errorf("user info: %w", gafaelfawr.ErrInvalidToken)
}
