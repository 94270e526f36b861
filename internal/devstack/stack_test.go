package devstack_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/internal/devstack"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

func startStack(t *testing.T) *devstack.Stack {
	t.Helper()
	s, err := devstack.Start(devstack.Options{StateDir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// trusting returns a transport that trusts the stack's CA file, as a
// process with SSL_CERT_FILE pointing at it does.
func trusting(t *testing.T, s *devstack.Stack) *http.Transport {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem), "CA file holds a certificate")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr
}

// TestRegistry: the registry serves every tag over HTTPS to a client that
// trusts the CA file and uses the credentials file, as the controller's
// source does.
func TestRegistry(t *testing.T) {
	s := startStack(t)
	creds, err := images.LoadDockerCredentials(s.CredentialsFile)
	require.NoError(t, err)
	client, err := images.NewDockerClient(images.DockerConfig{Registry: s.RegistryHost, Repository: s.Repository},
		images.WithCredentials(creds), images.WithTransport(trusting(t, s)))
	require.NoError(t, err)
	ctx := context.Background()
	tags, err := client.ListTags(ctx)
	require.NoError(t, err)
	var want []string
	for _, tag := range devstack.DefaultTags {
		want = append(want, tag.Tag)
	}
	assert.ElementsMatch(t, want, tags, "ListTags")
	for tag, digest := range s.Digests {
		got, err := client.Digest(ctx, tag)
		require.NoError(t, err)
		assert.Equal(t, digest, got, "Digest(%q)", tag)
	}
	assert.Equal(t, s.Digests["w_2025_43"], s.Digests["recommended"], "recommended is an alias of w_2025_43")
	assert.Equal(t, s.Digests["w_2025_44"], s.Digests["latest_weekly"])
	assert.NotEqual(t, s.Digests["w_2025_44"], s.Digests["w_2025_44-amd64"])

	cat, err := images.NewDockerSource(client, images.DefaultSettings(), 0).Refresh(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Recommended (Weekly 2025_43)", cat.SpawnerImages().Recommended.Name)
}

func TestRegistryRefusesWithoutCredentials(t *testing.T) {
	s := startStack(t)
	client := &http.Client{Transport: trusting(t, s), Timeout: 10 * time.Second}
	resp, err := client.Get("https://" + s.RegistryHost + "/v2/" + s.Repository + "/tags/list")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Basic")

	other, err := images.NewDockerClient(images.DockerConfig{Registry: s.RegistryHost, Repository: s.Repository},
		images.WithTransport(trusting(t, s)))
	require.NoError(t, err)
	_, err = other.ListTags(context.Background())
	var aerr *images.AuthError
	require.ErrorAs(t, err, &aerr, "ListTags without credentials")

	untrusted := &http.Client{Timeout: 10 * time.Second}
	_, err = untrusted.Get("https://" + s.RegistryHost + "/v2/")
	var uerr x509.UnknownAuthorityError
	require.ErrorAs(t, err, &uerr, "the registry's certificate is signed by the stack's own CA")
}

// TestGafaelfawr: the controller's Gafaelfawr client finds the stand-in
// through the discovery document and gets the users of the users file.
func TestGafaelfawr(t *testing.T) {
	s := startStack(t)
	client := gafaelfawr.New(s.RepertoireURL())
	ctx := context.Background()

	rachel, err := client.UserInfo(ctx, "rachel")
	require.NoError(t, err)
	assert.Equal(t, "rachel", rachel.Username)
	require.NotNil(t, rachel.UID)
	assert.Equal(t, int64(1101), *rachel.UID)
	require.NotNil(t, rachel.Quota)
	assert.Equal(t, &nublado.NotebookQuota{CPU: 9, Memory: 27, Spawn: true}, rachel.Quota.Notebook,
		"a quota without spawn allows spawning")

	ribbon, err := client.UserInfo(ctx, "ribbon")
	require.NoError(t, err)
	assert.False(t, ribbon.Quota.Notebook.Spawn)

	wanda, err := client.UserInfo(ctx, "wanda")
	require.NoError(t, err)
	assert.Nil(t, wanda.Quota)

	_, err = client.UserInfo(ctx, "nobody")
	require.ErrorIs(t, err, gafaelfawr.ErrInvalidToken)

	doc, err := client.Discovery(ctx)
	require.NoError(t, err)
	var d struct {
		Services struct {
			Internal struct {
				Gafaelfawr struct {
					Versions struct {
						V1 struct {
							URL string `json:"url"`
						} `json:"v1"`
					} `json:"versions"`
				} `json:"gafaelfawr"`
			} `json:"internal"`
		} `json:"services"`
	}
	require.NoError(t, json.Unmarshal(doc, &d))
	assert.Equal(t, s.ServicesURL+"/auth/api/v1", d.Services.Internal.Gafaelfawr.Versions.V1.URL)
}

func TestUserInfoWithoutToken(t *testing.T) {
	s := startStack(t)
	resp, err := http.Get(s.ServicesURL + devstack.UserInfoPath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.JSONEq(t, `{"detail":[{"msg":"Authentication required","type":"invalid_token"}]}`, string(body))
}

func TestParseUsers(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		users      []string
		fails      bool
	}{
		{"default", string(devstack.DefaultUsers), []string{"rachel", "ribbon", "wanda"}, false},
		{"empty", "users: []\n", []string{}, false},
		{"no username", "users:\n  - name: Nobody\n", nil, true},
		{"duplicate", "users:\n  - username: a\n  - username: a\n", nil, true},
		{"wrong type", "users:\n  - username: a\n    uid: many\n", nil, true},
		{"not YAML", "users: [", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := devstack.ParseUsers([]byte(tc.yaml))
			if tc.fails {
				require.Error(t, err, "ParseUsers(%q)", tc.yaml)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.users, u.Names())
		})
	}
	_, err := devstack.LoadUsers(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
