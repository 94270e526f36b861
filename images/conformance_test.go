//go:build conformance

package images

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"sigs.k8s.io/yaml"

	"github.com/nublado-go/nublado/images/imagestest"
)

// conformance returns the path of a file of Nublado's reference data,
// ../shared/conformance/nublado-15.1.0/ from the repository root.
func conformance(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		require.NotEqual(t, dir, parent, "go.mod not found above the test")
		dir = parent
	}
	return filepath.Join(dir, "..", "shared", "conformance", "nublado-15.1.0", rel)
}

func readConformance(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(conformance(t, rel))
	require.NoError(t, err)
	return data
}

func TestConformanceTagParsing(t *testing.T) {
	files, err := filepath.Glob(conformance(t, "controller/rspimagetag/*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		tag := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(tag, func(t *testing.T) {
			want, err := os.ReadFile(f)
			require.NoError(t, err)
			got, err := json.Marshal(ParseTag(tag))
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got), "ParseTag(%q)", tag)
		})
	}
}

// controllerConfig is the part of a controller config the image logic
// reads.
type controllerConfig struct {
	Lab struct {
		NodeSelector map[string]string `json:"nodeSelector"`
		Tolerations  []struct {
			Key               string `json:"key"`
			Operator          string `json:"operator"`
			Value             string `json:"value"`
			Effect            string `json:"effect"`
			TolerationSeconds *int64 `json:"tolerationSeconds"`
		} `json:"tolerations"`
	} `json:"lab"`
	Images struct {
		Source struct {
			Type       string `json:"type"`
			Registry   string `json:"registry"`
			Repository string `json:"repository"`
			Location   string `json:"location"`
			ProjectID  string `json:"projectId"`
			Image      string `json:"image"`
		} `json:"source"`
		RecommendedTag *string  `json:"recommendedTag"`
		NumReleases    *int     `json:"numReleases"`
		NumWeeklies    *int     `json:"numWeeklies"`
		NumDailies     *int     `json:"numDailies"`
		Cycle          *int     `json:"cycle"`
		Pin            []string `json:"pin"`
		AliasTags      []string `json:"aliasTags"`
	} `json:"images"`
}

func loadConfig(t *testing.T, rel string) (controllerConfig, Settings, []Toleration) {
	t.Helper()
	var cfg controllerConfig
	require.NoError(t, yaml.Unmarshal(readConformance(t, rel), &cfg))
	s := DefaultSettings()
	im := cfg.Images
	for dst, src := range map[*int]*int{&s.NumReleases: im.NumReleases, &s.NumWeeklies: im.NumWeeklies, &s.NumDailies: im.NumDailies} {
		if src != nil {
			*dst = *src
		}
	}
	if im.RecommendedTag != nil {
		s.RecommendedTag = *im.RecommendedTag
	}
	s.Cycle, s.Pin, s.AliasTags = im.Cycle, im.Pin, im.AliasTags
	var tols []Toleration
	for _, tl := range cfg.Lab.Tolerations {
		tols = append(tols, Toleration{Key: tl.Key, Operator: tl.Operator, Value: tl.Value, Effect: tl.Effect, TolerationSeconds: tl.TolerationSeconds})
	}
	return cfg, s, tols
}

// conformanceNodes reads a nodes file, keeps the nodes matching the
// selector (sorted by name, as the API lists them) and rewrites fixture
// digests in image names with real ones (fake → real).
func conformanceNodes(t *testing.T, rel string, selector map[string]string, fakeToReal map[string]string) []Node {
	t.Helper()
	var raw map[string]struct {
		Images []struct {
			Names     []string `json:"names"`
			SizeBytes int64    `json:"size_bytes"`
		} `json:"images"`
		Labels map[string]string `json:"labels"`
		Taints []Taint           `json:"taints"`
	}
	require.NoError(t, json.Unmarshal(readConformance(t, rel), &raw))
	var out []Node
	for nodeName, n := range raw {
		match := true
		for k, v := range selector {
			match = match && n.Labels[k] == v
		}
		if !match {
			continue
		}
		node := Node{Name: nodeName, Labels: n.Labels, Taints: n.Taints}
		for _, img := range n.Images {
			var names []string
			for _, nm := range img.Names {
				if at := strings.LastIndex(nm, "@"); at >= 0 && fakeToReal[nm[at+1:]] != "" {
					nm = nm[:at+1] + fakeToReal[nm[at+1:]]
				}
				names = append(names, nm)
			}
			node.Images = append(node.Images, ContainerImage{Names: names, SizeBytes: img.SizeBytes})
		}
		out = append(out, node)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// hostRegistry serves go-containerregistry's in-memory registry under the
// host name of a conformance config: every connection goes to the test
// server, over plain HTTP.
type hostRegistry struct {
	transport *http.Transport
	back      map[string]string // real digest → fixture digest
	fwd       map[string]string // fixture digest → real digest
}

func newHostRegistry(t *testing.T, host, repo string, fixture map[string]string) *hostRegistry {
	t.Helper()
	reg := imagestest.NewRegistry(t)
	h := &hostRegistry{transport: reg.Transport(), back: map[string]string{}, fwd: reg.Push(t, host+"/"+repo, fixture)}
	for fake, real := range h.fwd {
		h.back[real] = fake
	}
	return h
}

func (h *hostRegistry) toFixture(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	s := string(raw)
	for real, fake := range h.back {
		s = strings.ReplaceAll(s, real, fake)
	}
	return s
}

func readFixture(t *testing.T, rel string) map[string]string {
	t.Helper()
	var fixture map[string]string
	require.NoError(t, json.Unmarshal(readConformance(t, rel), &fixture))
	return fixture
}

// TestConformanceDockerStandard reproduces the image list and the lab
// form's menus for standard.yaml, registry/docker.json and
// nodes/standard.json.
func TestConformanceDockerStandard(t *testing.T) {
	cfg, settings, tols := loadConfig(t, "controller/config/standard.yaml")
	dc := DockerConfig{Registry: cfg.Images.Source.Registry, Repository: cfg.Images.Source.Repository}
	reg := newHostRegistry(t, dc.Registry, dc.Repository, readFixture(t, "registry/docker.json"))
	client, err := NewDockerClient(dc, WithPlainHTTP(), WithTransport(reg.transport))
	require.NoError(t, err)
	src := NewDockerSource(client, settings, 0)
	cat, err := src.Refresh(context.Background())
	require.NoError(t, err)
	var states []NodeState
	for _, n := range conformanceNodes(t, "controller/nodes/standard.json", cfg.Lab.NodeSelector, reg.fwd) {
		states = append(states, NewNodeState(n, tols))
	}
	cat.SetNodes(states)

	assert.JSONEq(t, string(readConformance(t, "controller/images/standard.json")), reg.toFixture(t, cat.SpawnerImages()),
		"GET /spawner/v1/images")

	form := string(readConformance(t, "controller/html/lab-form.html"))
	radio := regexp.MustCompile(`<input type="radio" name="image_list" id="image\d+" value="([^"]+)"[^>]*>\s*<label for="image\d+">([^<]*)</label>`)
	option := regexp.MustCompile(`<option value="([^"]+)">([^<]*)</option>`)
	entries := func(re *regexp.Regexp) []MenuEntry {
		var out []MenuEntry
		for _, m := range re.FindAllStringSubmatch(form, -1) {
			out = append(out, MenuEntry{Reference: html.UnescapeString(m[1]), Name: html.UnescapeString(m[2])})
		}
		return out
	}
	var menu []MenuEntry
	require.NoError(t, json.Unmarshal([]byte(reg.toFixture(t, cat.Menu())), &menu))
	assert.Equal(t, entries(radio), menu, "lab form radio buttons")
	dropdown, err := cat.Dropdown(FilterPolicy{}, time.Now())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(reg.toFixture(t, dropdown)), &dropdown))
	assert.Equal(t, entries(option), dropdown, "lab form drop-down")

	img, err := cat.Resolve(context.Background(), ImageRequest{AttrImageList,
		"lighthouse.ceres/library/sketchbook:latest_daily@" + reg.fwd["sha256:1234"]}, src)
	require.NoError(t, err)
	assert.Equal(t, "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234",
		strings.ReplaceAll(img.ReferenceWithDigest(), reg.fwd["sha256:1234"], "sha256:1234"), "lab-status image")
	_, err = cat.Resolve(context.Background(), ImageRequest{AttrImageList, "lighthouse.ceres/library/sketchbook"}, src)
	var ie *InvalidReferenceError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, `Docker reference "lighthouse.ceres/library/sketchbook" has no tag`, ie.Error())
	_, err = cat.Resolve(context.Background(), ImageRequest{AttrImageTag, "unknown"}, src)
	var ue *UnknownImageError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, `Docker tag "unknown" not found`, ue.Error())

	var want []string
	for _, n := range conformanceNodes(t, "controller/nodes/standard.json", cfg.Lab.NodeSelector, nil) {
		want = append(want, n.Name)
	}
	missing := map[string][]string{}
	for _, n := range want {
		for _, img := range cat.Missing(n) {
			missing[n] = append(missing[n], img.Tag.Tag)
		}
	}
	assert.Equal(t, map[string][]string{"node2": {"d_2077_10_23"}}, missing, "prepull pods (objects/prepull.json: d_2077_10_23 on node2)")
}

func TestConformanceDockerCycle(t *testing.T) {
	cfg, settings, _ := loadConfig(t, "controller/config/cycle.yaml")
	dc := DockerConfig{Registry: cfg.Images.Source.Registry, Repository: cfg.Images.Source.Repository}
	reg := newHostRegistry(t, dc.Registry, dc.Repository, readFixture(t, "registry/docker-cycle.json"))
	client, err := NewDockerClient(dc, WithPlainHTTP(), WithTransport(reg.transport))
	require.NoError(t, err)
	cat, err := NewDockerSource(client, settings, 0).Refresh(context.Background())
	require.NoError(t, err)
	cat.SetNodes(nil)
	var names []string
	for _, e := range cat.Menu() {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{
		"Recommended (Weekly 2077_43, SAL Cycle 0050, Build 002)",
		"Weekly 2077_43 (SAL Cycle 0050, Build 004)",
		"Weekly 2077_43 (SAL Cycle 0050, Build 003)",
	}, names, "menu of cycle 50")
	var all []string
	for _, img := range cat.SpawnerImages().All {
		all = append(all, img.Tag)
	}
	assert.Equal(t, []string{"recommended_c0050", "latest_c0050", "w_2077_43_c0050.004", "w_2077_43_c0050.003",
		"w_2077_43_c0050.002", "w_2077_43_c0050.001", "exp_w_2077_41_c0050.002_testing"}, all, "only cycle 50")
}

func garFixture(t *testing.T, rel string) []*artifactregistrypb.DockerImage {
	t.Helper()
	out, err := imagestest.GARImages(readConformance(t, rel))
	require.NoError(t, err)
	return out
}

func garConfigOf(cfg controllerConfig) GARConfig {
	s := cfg.Images.Source
	return GARConfig{Location: s.Location, ProjectID: s.ProjectID, Repository: s.Repository, Image: s.Image}
}

func TestConformanceGAR(t *testing.T) {
	cfg, settings, tols := loadConfig(t, "controller/config/gar.yaml")
	gc := garConfigOf(cfg)
	srv, client, attempts := startGAR(t, gc, garFixture(t, "registry/gar.json"), 2)
	srv.FailOn(2, codes.Unavailable)
	cat, err := NewGARSource(client, settings).Refresh(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []int{1}, *attempts, "one injected 503, retried")

	var all []string
	for _, img := range cat.SpawnerImages().All {
		all = append(all, img.Tag)
		assert.True(t, strings.HasPrefix(img.Reference, "us-central1-docker.pkg.dev/rubin-shared-services-71ec/sciplat/sciplat-lab:"))
	}
	assert.Equal(t, []string{"recommended", "latest_weekly", "w_2077_43", "w_2077_42", "w_2077_41", "exp_w_2077_41_testing"}, all,
		"every tag of sciplat-lab, none of some-other-image")

	var states []NodeState
	for _, n := range conformanceNodes(t, "controller/nodes/empty.json", nil, nil) {
		states = append(states, NewNodeState(n, tols))
	}
	cat.SetNodes(states)
	for _, node := range []string{"node1", "node2"} {
		var missing []string
		for _, img := range cat.Missing(node) {
			missing = append(missing, img.Tag.Tag)
		}
		assert.Equal(t, []string{"w_2077_43", "w_2077_42"}, missing, "prepull order on %s", node)
	}

	// images-cli/gar.yaml prunes weeklies before 2077-10-25.
	var prune struct {
		Prune struct {
			Weekly struct {
				CutoffDate string `json:"cutoffDate"`
			} `json:"weekly"`
		} `json:"prune"`
	}
	require.NoError(t, yaml.Unmarshal(readConformance(t, "images-cli/gar.yaml"), &prune))
	cutoff, err := time.Parse("2006-01-02", prune.Prune.Weekly.CutoffDate)
	require.NoError(t, err)
	imgs, err := client.ListImages(context.Background())
	require.NoError(t, err)
	pruned, err := NewImageCollection(imgs, nil).Filter(FilterPolicy{Weekly: &Filter{CutoffDate: &cutoff}}, time.Now(),
		FilterOptions{Invert: true, KeepArchSpecific: true})
	require.NoError(t, err)
	var gone []string
	for _, img := range pruned {
		gone = append(gone, img.Tag.Tag)
	}
	assert.Equal(t, []string{"w_2077_42", "w_2077_41"}, gone, "GAR prune")
}

func TestConformanceGARCycle(t *testing.T) {
	cfg, settings, _ := loadConfig(t, "controller/config/gar-cycle.yaml")
	_, client, _ := startGAR(t, garConfigOf(cfg), garFixture(t, "registry/gar-cycle.json"), 3)
	cat, err := NewGARSource(client, settings).Refresh(context.Background())
	require.NoError(t, err)
	cat.SetNodes(nil)
	var names []string
	for _, e := range cat.Menu() {
		names = append(names, e.Name)
	}
	assert.Equal(t, []string{
		"Recommended (Weekly 2077_43, SAL Cycle 0050, Build 002)",
		"Weekly 2077_43 (SAL Cycle 0050, Build 004)",
		"Weekly 2077_43 (SAL Cycle 0050, Build 003)",
	}, names, "menu of cycle 50")
}

func TestConformancePrepullerNodes(t *testing.T) {
	cfg, _, tols := loadConfig(t, "controller/config/prepuller.yaml")
	got := map[string]string{}
	for _, n := range conformanceNodes(t, "controller/nodes/prepuller.json", cfg.Lab.NodeSelector, nil) {
		st := NewNodeState(n, tols)
		got[n.Name] = st.Comment
		if st.Eligible {
			got[n.Name] = "eligible"
		}
	}
	assert.Equal(t, map[string]string{
		"node1": "eligible", "node3": "eligible", "node5": "eligible",
		"node6": "Node is tainted (NoSchedule, some-taint = other-value)",
	}, got)
}

func TestConformanceDockerCredentials(t *testing.T) {
	c, err := LoadDockerCredentials(conformance(t, "registry/docker-creds.json"))
	require.NoError(t, err)
	for host, want := range map[string][2]string{
		"repo.example.com": {"ken", "p/q2-q4!a"}, "lighthouse.ceres": {"bwk", "/.,/.,"}, "foo.lighthouse.ceres": {"bwk", "/.,/.,"},
	} {
		u, p, ok := c.Lookup(host)
		assert.True(t, ok, host)
		assert.Equal(t, want, [2]string{u, p}, host)
	}
	_, _, ok := c.Lookup("example.org")
	assert.False(t, ok)
	raw, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, string(readConformance(t, "registry/docker-creds.json")), string(raw), "written in the same format")
}
