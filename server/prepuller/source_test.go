package prepuller_test

import (
	"context"
	"encoding/base64"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/images/imagestest"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/prepuller"
)

func TestNewSourceMissingCredentials(t *testing.T) {
	cfg := loadConfig(t, "x").Images
	cfg.DockerCredentialsPath = filepath.Join(t.TempDir(), "missing.json")
	_, _, err := prepuller.NewSource(context.Background(), cfg, prepuller.SourceOptions{})
	require.ErrorIs(t, err, fs.ErrNotExist, "a missing credentials file is an error")
}

// TestNewSourceCredentials: the credentials file is read and its
// credentials sent to the registry.
func TestNewSourceCredentials(t *testing.T) {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("bwk:/.,/.,"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v2/":
		case "/v2/library/sketchbook/tags/list":
			_, _ = w.Write([]byte(`{"name":"library/sketchbook","tags":["w_2077_43"]}`))
		case "/v2/library/sketchbook/manifests/w_2077_43":
			w.Header().Set("Docker-Content-Digest", "sha256:"+sixtyFour)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	creds := filepath.Join(t.TempDir(), "creds.json")
	require.NoError(t, os.WriteFile(creds, []byte(`{"auths":{"lighthouse.ceres":{"auth":"`+
		base64.StdEncoding.EncodeToString([]byte("bwk:/.,/.,"))+`"}}}`), 0o600))
	cfg := loadConfig(t, "x").Images
	cfg.DockerCredentialsPath = creds
	src, closer, err := prepuller.NewSource(context.Background(), cfg, prepuller.SourceOptions{
		Docker: []images.DockerOption{images.WithPlainHTTP(), images.WithTransport(dialTo(srv.Listener.Addr().String()))},
	})
	require.NoError(t, err)
	defer closer.Close()
	cat, err := src.Refresh(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "sha256:"+sixtyFour, cat.SpawnerImages().LatestWeekly.Digest)
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestNewSourceGAR: a google source lists the image from Artifact
// Registry (the local gRPC server here; workload identity in production).
func TestNewSourceGAR(t *testing.T) {
	cfg := loadConfig(t, "x").Images
	cfg.Source = schema.ImageSource{Type: schema.SourceGoogle, Location: "us-central1", ProjectID: "proj",
		Repository: "sciplat", Image: "sciplat-lab"}
	parent := cfg.Source.GARParent()
	_, opts := imagestest.StartGAR(t, parent, []*artifactregistrypb.DockerImage{{
		Name: parent + "/dockerImages/sciplat-lab@sha256:" + sixtyFour,
		Uri:  "us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab@sha256:" + sixtyFour,
		Tags: []string{"w_2077_43", "recommended"}, ImageSizeBytes: 1234,
	}}, 10)
	src, closer, err := prepuller.NewSource(context.Background(), cfg, prepuller.SourceOptions{
		GAR: []images.GAROption{images.WithClientOptions(opts...)},
	})
	require.NoError(t, err)
	defer closer.Close()
	cat, err := src.Refresh(context.Background())
	require.NoError(t, err)
	rec := cat.SpawnerImages().Recommended
	require.NotNil(t, rec)
	assert.Equal(t, "us-central1-docker.pkg.dev/proj/sciplat/sciplat-lab:recommended", rec.Reference)
	assert.Equal(t, []string{"w_2077_43"}, rec.Aliases)
}

func TestNewSourceUnknownType(t *testing.T) {
	cfg := loadConfig(t, "x").Images
	cfg.Source.Type = "quay"
	_, _, err := prepuller.NewSource(context.Background(), cfg, prepuller.SourceOptions{})
	require.Error(t, err)
}
