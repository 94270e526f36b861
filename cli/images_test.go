package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
)

func TestImagesParse(t *testing.T) {
	var out, errb bytes.Buffer
	code := Execute(context.Background(), []string{"images", "parse", "w_2021_22", "recommended", ""}, nil, &out, &errb)
	assert.Equal(t, ExitOK, code, "stderr %q", errb.String())
	assert.JSONEq(t, `[
  {"tag": "w_2021_22", "image_type": "Weekly", "display_name": "Weekly 2021_22",
   "version": {"major": 2021, "minor": 22, "patch": 0, "prerelease": null, "build": null},
   "semantic": false, "base": null, "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": "2021-06-03 00:00:00"},
  {"tag": "recommended", "image_type": "Unknown", "display_name": "recommended", "version": null,
   "semantic": false, "base": "recommended", "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": null},
  {"tag": "latest", "image_type": "Unknown", "display_name": "latest", "version": null,
   "semantic": false, "base": "latest", "cycle": null, "cycle_build": null, "build": null,
   "architecture": null, "extra": null, "date": null}
]`, out.String())
}

func TestImagesParseUsage(t *testing.T) {
	var out, errb bytes.Buffer
	assert.Equal(t, ExitUsage, Execute(context.Background(), []string{"images", "parse"}, nil, &out, &errb), "no tags")
	assert.Equal(t, ExitOK, Execute(context.Background(), []string{"images"}, nil, &out, &errb), "help")
}

// cliResult is one run of the command line.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runImagesCLI runs args through NewRoot. With deps, the images command is
// rebuilt on them (a GAR endpoint, a test transport, the environment).
func runImagesCLI(t *testing.T, deps *imagesDeps, args ...string) cliResult {
	t.Helper()
	var out, errb bytes.Buffer
	lg := logrus.New()
	lg.SetOutput(&errb)
	root := NewRoot(lg)
	if deps != nil {
		for _, c := range root.Commands() {
			if c.Name() == "images" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newCmdImages(lg, *deps))
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	code := ExitOK
	if err := root.ExecuteContext(context.Background()); err != nil {
		code = exitCode(err, &errb)
	}
	return cliResult{code, out.String(), errb.String()}
}

// testDeps are imagesDeps without the process: an empty environment, no
// terminal, no default credentials file.
func testDeps(t *testing.T) *imagesDeps {
	return &imagesDeps{
		environ:     func() []string { return nil },
		isTerminal:  func(io.Writer) bool { return false },
		credentials: filepath.Join(t.TempDir(), "absent.json"),
		now:         time.Now,
	}
}

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// cliFixture is a Docker repository: recommended is the newest weekly.
var cliFixture = map[string]string{
	"w_2077_46": "sha256:a", "w_2077_46-amd64": "sha256:b", "recommended": "sha256:a",
	"w_2077_45": "sha256:c", "w_2077_45-arm64": "sha256:d",
	"d_2077_11_20": "sha256:e", "d_2077_11_19-amd64": "sha256:f", "r24_0_0": "sha256:g",
}

const cliList = "r24_0_0\nw_2077_46\nw_2077_46-amd64\nw_2077_45\nw_2077_45-arm64\nd_2077_11_20\nd_2077_11_19-amd64\nrecommended\n"

// dockerConfig writes an images config for a registry on 127.0.0.1, which
// go-containerregistry reaches over plain HTTP without any option.
func dockerConfig(t *testing.T, host, extra string) string {
	return writeTestFile(t, "images.yaml", `source:
  type: docker
  registry: "`+host+`"
  repository: library/sketchbook
prune:
  weekly:
    cutoffDate: "2077-11-15"
`+extra)
}

// TestImagesDocker drives list, prune and delete through the real command
// tree (Execute) against the in-memory registry.
func TestImagesDocker(t *testing.T) {
	reg := imagestest.NewRegistry(t, imagestest.PageSize(3))
	reg.Push(t, reg.Host+"/library/sketchbook", cliFixture)
	cfg := dockerConfig(t, reg.Host, "")
	run := func(args ...string) cliResult {
		var out, errb bytes.Buffer
		code := Execute(context.Background(), args, nil, &out, &errb)
		return cliResult{code, out.String(), errb.String()}
	}

	res := run("images", "list", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, cliList, res.stdout, "list")

	res = run("images", "prune", "--config", cfg, "--dry-run")
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Would delete images:\n  w_2077_45\n  w_2077_45-arm64\n", res.stdout, "prune -n")
	assert.Empty(t, res.stderr, "a dry run deletes nothing, so reports no progress")
	assert.Equal(t, cliList, run("images", "list", "-c", cfg).stdout, "prune -n deleted nothing")

	res = run("images", "prune", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Deleted images:\n  w_2077_45\n  w_2077_45-arm64\n", res.stdout, "prune")
	assert.Equal(t, "Deleting 2 images\nDeleted 2 of 2 images\n", res.stderr, "plain progress lines on stderr")
	assert.Equal(t, "r24_0_0\nw_2077_46\nw_2077_46-amd64\nd_2077_11_20\nd_2077_11_19-amd64\nrecommended\n",
		run("images", "list", "-c", cfg).stdout, "pruned tags gone")

	res = run("images", "prune", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Deleted images:\n", res.stdout, "nothing to prune (decision: no indented empty line)")

	res = run("images", "delete", "-c", cfg, "d_2077_11_19-amd64", "w_2077_46")
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Empty(t, res.stdout, "delete prints nothing")
	assert.Equal(t, "r24_0_0\nw_2077_46-amd64\nd_2077_11_20\n", run("images", "list", "-c", cfg).stdout,
		"deleted with recommended, which shared w_2077_46's image")

	res = run("images", "delete", "-c", cfg, "d_2077_11_20", "w_1999_01")
	assert.Equal(t, ExitFailure, res.code)
	assert.Contains(t, res.stderr, "Error: looking up digest of \"w_1999_01\"")
	assert.Contains(t, res.stderr, "404")
	assert.Equal(t, "r24_0_0\nw_2077_46-amd64\nd_2077_11_20\n", run("images", "list", "-c", cfg).stdout,
		"nothing deleted when a tag is unknown")
}

func TestImagesEmptyRepository(t *testing.T) {
	reg := imagestest.NewRegistry(t)
	reg.Push(t, reg.Host+"/library/sketchbook", map[string]string{"w_2077_46": "sha256:a"})
	cfg := dockerConfig(t, reg.Host, "")
	require.Equal(t, ExitOK, runImagesCLI(t, testDeps(t), "images", "delete", "-c", cfg, "w_2077_46").code)
	res := runImagesCLI(t, testDeps(t), "images", "list", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "\n", res.stdout, "an empty repository lists a single newline")
}

func TestImagesProgressBar(t *testing.T) {
	reg := imagestest.NewRegistry(t)
	reg.Push(t, reg.Host+"/library/sketchbook", cliFixture)
	deps := testDeps(t)
	var checked io.Writer
	deps.isTerminal = func(w io.Writer) bool { checked = w; return true }
	res := runImagesCLI(t, deps, "images", "prune", "-c", dockerConfig(t, reg.Host, ""))
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Deleted images:\n  w_2077_45\n  w_2077_45-arm64\n", res.stdout, "stdout keeps the pinned output")
	bar := "\rDeleting images [" + strings.Repeat(" ", 30) + "] 0/2" + "\rDeleting images [" + strings.Repeat("#", 30) + "] 2/2\n"
	assert.Equal(t, bar, res.stderr, "a bar on stderr")
	assert.IsType(t, &bytes.Buffer{}, checked, "the terminal check is on stdout")
}

func TestImagesCredentials(t *testing.T) {
	inner := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "bwk" || p != "/.,/.," {
			w.Header().Set("WWW-Authenticate", `Basic realm="lighthouse"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	require.NoError(t, err)
	ref, err := name.NewTag(host+"/library/sketchbook:w_2077_46", name.Insecure)
	require.NoError(t, err)
	require.NoError(t, remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "bwk", Password: "/.,/.,"})))

	creds := &images.DockerCredentials{}
	creds.Set(host, "bwk", "/.,/.,")
	credsPath := filepath.Join(t.TempDir(), "creds.json")
	require.NoError(t, creds.Save(credsPath))
	wrong := &images.DockerCredentials{}
	wrong.Set(host, "bwk", "nope")
	wrongPath := filepath.Join(t.TempDir(), "wrong.json")
	require.NoError(t, wrong.Save(wrongPath))

	plain := dockerConfig(t, host, "")
	withPath := dockerConfig(t, host, "dockerCredentialsPath: "+credsPath+"\n")
	withWrong := dockerConfig(t, host, "dockerCredentialsPath: "+wrongPath+"\n")
	fallback := testDeps(t)
	fallback.credentials = credsPath
	for name, tc := range map[string]struct {
		deps   *imagesDeps
		args   []string
		code   int
		stderr string
	}{
		"Flag":               {testDeps(t), []string{"-c", plain, "-a", credsPath}, ExitOK, ""},
		"FlagBeatsConfig":    {testDeps(t), []string{"-c", withWrong, "-a", credsPath}, ExitOK, ""},
		"Config":             {testDeps(t), []string{"-c", withPath}, ExitOK, ""},
		"DefaultFile":        {fallback, []string{"-c", plain}, ExitOK, ""},
		"ConfigBeatsDefault": {fallback, []string{"-c", withWrong}, ExitFailure, "authentication credentials rejected"},
		"Anonymous":          {testDeps(t), []string{"-c", plain}, ExitFailure, "no Docker API credentials available"},
		"MissingFile":        {testDeps(t), []string{"-c", plain, "-a", filepath.Join(t.TempDir(), "nope.json")}, ExitFailure, "reading Docker credentials"},
	} {
		t.Run(name, func(t *testing.T) {
			res := runImagesCLI(t, tc.deps, append([]string{"images", "list"}, tc.args...)...)
			assert.Equal(t, tc.code, res.code, "stderr %q", res.stderr)
			if tc.code == ExitOK {
				assert.Equal(t, "w_2077_46\n", res.stdout)
			} else {
				assert.Contains(t, res.stderr, tc.stderr)
			}
		})
	}
}

// garListing is a GAR repository: sciplat-lab with an alias on the newest
// weekly, and another image that must be ignored.
func garListing(cfg images.GARConfig) []*artifactregistrypb.DockerImage {
	img := func(image, digest string, tags ...string) *artifactregistrypb.DockerImage {
		return &artifactregistrypb.DockerImage{
			Name: cfg.Parent() + "/dockerImages/" + image + "@" + digest,
			Uri:  cfg.Registry() + "/" + cfg.ProjectID + "/" + cfg.Repository + "/" + image + "@" + digest,
			Tags: tags,
		}
	}
	return []*artifactregistrypb.DockerImage{
		img("sciplat-lab", "sha256:a", "w_2077_46", "recommended"),
		img("sciplat-lab", "sha256:b", "w_2077_45"),
		img("sciplat-lab", "sha256:c", "w_2077_44", "latest_old"),
		img("sciplat-lab", "sha256:d", "d_2077_11_20-amd64"),
		img("other", "sha256:e", "w_2077_01"),
	}
}

func TestImagesGAR(t *testing.T) {
	gc := images.GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"}
	srv, opts := imagestest.StartGAR(t, gc.Parent(), garListing(gc), 2)
	deps := testDeps(t)
	deps.gar = []images.GAROption{images.WithClientOptions(opts...), images.WithRetryDelay(time.Millisecond)}
	cfg := writeTestFile(t, "gar.yaml", `source: {type: google, location: us-central1, projectId: proj, repository: sciplat, image: sciplat-lab}
prune: {weekly: {number: 2}}
`)
	srv.FailOn(1, codes.Unavailable)
	res := runImagesCLI(t, deps, "images", "list", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "w_2077_46\nw_2077_45\nw_2077_44\nd_2077_11_20-amd64\nrecommended\nlatest_old\n", res.stdout)
	var line map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(res.stderr)), &line), "one JSON log line: %q", res.stderr)
	assert.Equal(t, "Error listing images from GAR, retrying", line["event"])
	assert.Equal(t, "warning", line["severity"])
	assert.EqualValues(t, 1, line["attempt"])

	res = runImagesCLI(t, deps, "images", "prune", "-c", cfg, "-n")
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Would delete images:\n  w_2077_44\n", res.stdout, "the alias of w_2077_44 is not selected")
	assert.Empty(t, srv.Deletes())

	res = runImagesCLI(t, deps, "images", "prune", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Equal(t, "Deleted images:\n  w_2077_44\n", res.stdout)
	require.Len(t, srv.Deletes(), 1)
	assert.Equal(t, []string{gc.PackageParent() + "/versions/sha256:c"}, srv.Deletes()[0].GetNames())

	res = runImagesCLI(t, deps, "images", "delete", "-c", cfg, "recommended", "nope", "d_2077_11_20-amd64")
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Empty(t, res.stdout)
	assert.Equal(t, []string{gc.PackageParent() + "/versions/sha256:a", gc.PackageParent() + "/versions/sha256:d"}, srv.Deletes()[1].GetNames())
	assert.Equal(t, "w_2077_45\n", runImagesCLI(t, deps, "images", "list", "-c", cfg).stdout)
}

func TestImagesUsageAndConfig(t *testing.T) {
	noPrune := writeTestFile(t, "images.yaml", "source: {type: docker, registry: 127.0.0.1:1, repository: r}\n")
	debugDeps := testDeps(t)
	debugDeps.environ = func() []string { return []string{"DEBUG=maybe"} }
	for name, tc := range map[string]struct {
		deps   *imagesDeps
		args   []string
		code   int
		stderr string
	}{
		"NoConfigFlag":   {nil, []string{"list"}, ExitUsage, `required flag(s) "config" not set`},
		"UnknownFlag":    {nil, []string{"prune", "-c", noPrune, "--force"}, ExitUsage, "unknown flag"},
		"ListArgs":       {nil, []string{"list", "-c", noPrune, "extra"}, ExitUsage, "unknown command"},
		"NoPrunePolicy":  {nil, []string{"prune", "-c", noPrune}, ExitUsage, "Error: No image prune filter defined in config\n"},
		"BadDebugEnv":    {debugDeps, []string{"list", "-c", noPrune}, ExitUsage, "DEBUG"},
		"MissingConfig":  {nil, []string{"list", "-c", filepath.Join(t.TempDir(), "nope.yaml")}, ExitFailure, "reading images config"},
		"InvalidConfig":  {nil, []string{"list", "-c", writeTestFile(t, "bad.yaml", "source: {type: docker}\n")}, ExitFailure, "source: repository: field required"},
		"RegistryFailed": {nil, []string{"list", "-c", noPrune}, ExitFailure, "Error: pinging 127.0.0.1:1"},
	} {
		t.Run(name, func(t *testing.T) {
			deps := tc.deps
			if deps == nil {
				deps = testDeps(t)
			}
			res := runImagesCLI(t, deps, append([]string{"images"}, tc.args...)...)
			assert.Equal(t, tc.code, res.code, "stderr %q", res.stderr)
			assert.Contains(t, res.stderr, tc.stderr)
		})
	}
}

func TestImagesDebugAndEnv(t *testing.T) {
	reg := imagestest.NewRegistry(t)
	reg.Push(t, reg.Host+"/library/sketchbook", map[string]string{"w_2077_46": "sha256:a"})
	cfg := dockerConfig(t, reg.Host, "logProfile: development\n")
	deps := testDeps(t)
	res := runImagesCLI(t, deps, "images", "list", "-c", cfg)
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Empty(t, res.stderr, "nothing logged at INFO")

	res = runImagesCLI(t, deps, "images", "list", "-c", cfg, "-d")
	require.Equal(t, ExitOK, res.code, res.stderr)
	assert.Contains(t, res.stderr, "Using Docker registry", "-d logs at DEBUG")
	assert.Equal(t, "w_2077_46\n", res.stdout, "logs stay off stdout")

	deps.environ = func() []string { return []string{"DEBUG=yes"} }
	assert.Contains(t, runImagesCLI(t, deps, "images", "list", "-c", cfg).stderr, "Using Docker registry", "DEBUG=yes logs at DEBUG")

	deps.environ = func() []string {
		return []string{`NUBLADO_SOURCE={"type":"docker","registry":"` + reg.Host + `","repository":"library/other"}`}
	}
	res = runImagesCLI(t, deps, "images", "list", "-c", cfg)
	assert.Equal(t, ExitFailure, res.code, "NUBLADO_SOURCE overrides the file's source")
	assert.Contains(t, res.stderr, "library/other")
}

func TestImagesHelp(t *testing.T) {
	root := NewRoot(logrus.New())
	shorts := map[string]bool{}
	for _, sub := range []string{"list", "delete", "prune", "parse"} {
		cmd, _, err := root.Find([]string{"images", sub})
		require.NoError(t, err)
		assert.NotEqual(t, "List the available images.", cmd.Short)
		assert.False(t, shorts[cmd.Short], "%s has its own help", sub)
		shorts[cmd.Short] = true
		if sub != "parse" {
			assert.Contains(t, cmd.Long, "Exit codes:", sub)
			for _, flag := range []string{"config", "credentials", "debug"} {
				assert.NotNil(t, cmd.Flags().Lookup(flag), "%s --%s", sub, flag)
			}
		}
	}
	var out, errb bytes.Buffer
	require.Equal(t, ExitOK, Execute(context.Background(), []string{"images", "prune", "--help"}, nil, &out, &errb))
	assert.Contains(t, out.String(), "-n, --dry-run")
	assert.Contains(t, out.String(), "Would delete images:")
}
