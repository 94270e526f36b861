package images

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const credsJSON = `{
  "auths": {
    "example.com": {"username": "ignored", "password": "ignored", "auth": "Zm9vOmJhcjpiYXo="},
    "foo.example.com": {"auth": "ZXhhY3Q6cGFzcw=="},
    "com": {"auth": "dGxkOnBhc3M="},
    "nothing.example.net": {"username": "u", "password": "p"}
  }
}`

func TestDockerCredentialsLookup(t *testing.T) {
	c, err := ParseDockerCredentials([]byte(credsJSON))
	require.NoError(t, err)
	cases := map[string]struct {
		host, user, pass string
		ok               bool
	}{
		"Exact":               {"example.com", "foo", "bar:baz", true},
		"ExactBeatsParent":    {"foo.example.com", "exact", "pass", true},
		"ParentInFileOrder":   {"bar.example.com", "foo", "bar:baz", true},
		"DeepParent":          {"a.b.example.com", "foo", "bar:baz", true},
		"OtherTLDParent":      {"example.org", "", "", false},
		"SuffixNeedsADot":     {"badexample.com", "tld", "pass", true},
		"NoAuthFieldIgnored":  {"nothing.example.net", "", "", false},
		"PortIsPartOfTheHost": {"example.com:5000", "", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u, p, ok := c.Lookup(tc.host)
			assert.Equal(t, tc.ok, ok, "Lookup(%q) ok", tc.host)
			assert.Equal(t, tc.user, u, "Lookup(%q) user", tc.host)
			assert.Equal(t, tc.pass, p, "Lookup(%q) password", tc.host)
		})
	}
	var nilCreds *DockerCredentials
	_, _, ok := nilCreds.Lookup("example.com")
	assert.False(t, ok, "nil credentials")
}

func TestDockerCredentialsSaveLoad(t *testing.T) {
	c := &DockerCredentials{}
	c.Set("repo.example.com", "ken", "p/q2-q4!a")
	c.Set("lighthouse.ceres", "bwk", "/.,/.,")
	c.Set("repo.example.com", "ken", "new")
	path := filepath.Join(t.TempDir(), "creds.json")
	require.NoError(t, c.Save(path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]map[string]map[string]string
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, map[string]map[string]string{
		"repo.example.com": {"username": "ken", "password": "new", "auth": "a2VuOm5ldw=="},
		"lighthouse.ceres": {"username": "bwk", "password": "/.,/.,", "auth": "YndrOi8uLC8uLA=="},
	}, doc["auths"])

	loaded, err := LoadDockerCredentials(path)
	require.NoError(t, err)
	u, p, ok := loaded.Lookup("lighthouse.ceres")
	assert.True(t, ok)
	assert.Equal(t, "bwk", u)
	assert.Equal(t, "/.,/.,", p)
	again, err := json.Marshal(loaded)
	require.NoError(t, err)
	first, err := json.Marshal(c)
	require.NoError(t, err)
	assert.Equal(t, string(first), string(again), "order and content survive a round trip")
}

func TestDockerCredentialsErrors(t *testing.T) {
	for name, data := range map[string]string{
		"NotJSON":     `{`,
		"AuthsNotObj": `{"auths": []}`,
		"BadBase64":   `{"auths": {"x": {"auth": "!!!"}}}`,
		"EntryNotObj": `{"auths": {"x": 1}}`,
	} {
		_, err := ParseDockerCredentials([]byte(data))
		assert.Error(t, err, name)
	}
	c, err := ParseDockerCredentials([]byte(`{}`))
	require.NoError(t, err)
	_, _, ok := c.Lookup("x")
	assert.False(t, ok)
	_, err = LoadDockerCredentials(filepath.Join(t.TempDir(), "missing"))
	assert.Error(t, err)
}
