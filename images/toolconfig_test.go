package images

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseToolConfig(t *testing.T) {
	cutoff := time.Date(2021, 5, 31, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		yaml    string
		environ []string
		want    ToolConfig
	}{
		"DockerDefaults": {
			yaml: "source: {type: docker, repository: library/sketchbook}\n",
			want: ToolConfig{Docker: &DockerConfig{Registry: "docker.io", Repository: "library/sketchbook"}, LogLevel: "INFO", LogProfile: "production"},
		},
		"DockerPrune": {
			yaml: `prune:
  weekly:
    cutoffDate: "2021-05-31"
source:
  type: "docker"
  registry: "lighthouse.ceres"
  repository: "library/sketchbook"
`,
			want: ToolConfig{Docker: &DockerConfig{Registry: "lighthouse.ceres", Repository: "library/sketchbook"},
				Prune: &FilterPolicy{Weekly: &Filter{CutoffDate: &cutoff}}, LogLevel: "INFO", LogProfile: "production"},
		},
		"GoogleSnakeCase": {
			yaml: `source: {type: google, location: us-central1, project_id: proj, repository: sciplat, image: sciplat-lab}
log_level: debug
log_profile: development
docker_credentials_path: /tmp/creds.json
`,
			want: ToolConfig{GAR: &GARConfig{Location: "us-central1", ProjectID: "proj", Repository: "sciplat", Image: "sciplat-lab"},
				LogLevel: "DEBUG", LogProfile: "development", DockerCredentialsPath: "/tmp/creds.json"},
		},
		"EveryFilterKey": {
			yaml: `source: {type: docker, repository: r}
prune:
  release: {cutoffBuild: 2600, cutoff_version: "27.0.0"}
  weekly: {age: 2w}
  daily: {age: "2d 3h", number: 4}
  release_candidate: {number: "1", cutoffVersion: 25.3.1}
  experimental: {cutoff_date: 1622419200}
`,
			want: ToolConfig{Docker: &DockerConfig{Registry: "docker.io", Repository: "r"}, LogLevel: "INFO", LogProfile: "production",
				Prune: &FilterPolicy{
					Release:          &Filter{CutoffBuild: 2600, CutoffVersion: "27.0.0"},
					Weekly:           &Filter{Age: 14 * 24 * time.Hour},
					Daily:            &Filter{Age: 51 * time.Hour, Number: 4},
					ReleaseCandidate: &Filter{Number: 1, CutoffVersion: "25.3.1"},
					Experimental:     &Filter{CutoffDate: &cutoff},
				}},
		},
		"NullsAreUnset": {
			yaml: "source: {type: docker, repository: r, registry: null}\nprune: {weekly: null, daily: {age: null, number: 3}}\nlogLevel: null\n",
			want: ToolConfig{Docker: &DockerConfig{Registry: "docker.io", Repository: "r"}, LogLevel: "INFO", LogProfile: "production",
				Prune: &FilterPolicy{Weekly: &Filter{}, Daily: &Filter{Number: 3}}},
		},
		"AgeInSeconds": {
			yaml: "source: {type: docker, repository: r}\nprune: {weekly: {age: 90}, daily: {age: '1.5'}}\n",
			want: ToolConfig{Docker: &DockerConfig{Registry: "docker.io", Repository: "r"}, LogLevel: "INFO", LogProfile: "production",
				Prune: &FilterPolicy{Weekly: &Filter{Age: 90 * time.Second}, Daily: &Filter{Age: 1500 * time.Millisecond}}},
		},
		"EnvOverrides": {
			yaml: "source: {type: docker, repository: r}\nlogLevel: ERROR\n",
			environ: []string{
				`NUBLADO_SOURCE={"type":"google","location":"l","projectId":"p","repository":"r","image":"i"}`,
				`nublado_prune={"weekly":{"cutoffDate":"2021-05-31"}}`,
				"NUBLADO_LOG_LEVEL=warning", "NUBLADO_LOG_PROFILE=", "OTHER=1",
				"NUBLADO_DOCKER_CREDENTIALS_PATH=/etc/creds",
			},
			want: ToolConfig{GAR: &GARConfig{Location: "l", ProjectID: "p", Repository: "r", Image: "i"}, LogLevel: "WARNING", LogProfile: "production",
				Prune: &FilterPolicy{Weekly: &Filter{CutoffDate: &cutoff}}, DockerCredentialsPath: "/etc/creds"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseToolConfig([]byte(tc.yaml), tc.environ)
			require.NoError(t, err)
			assert.Equal(t, tc.want, *got, "ParseToolConfig")
		})
	}
}

func TestParseToolConfigErrors(t *testing.T) {
	cases := map[string]struct {
		yaml    string
		environ []string
		want    string
	}{
		"Empty":              {"", nil, "source: field required"},
		"NotMapping":         {"- a\n", nil, "the config is not a mapping"},
		"BadYAML":            {"a: [", nil, "parsing YAML"},
		"UnknownTop":         {"source: {type: docker, repository: r}\nextra: 1\n", nil, `unknown key "extra"`},
		"BothSpellings":      {"source: {type: docker, repository: r}\nlogLevel: INFO\nlog_level: INFO\n", nil, "given twice"},
		"NoType":             {"source: {repository: r}\n", nil, "source: type: field required"},
		"UnknownType":        {"source: {type: quay}\n", nil, `source: type: "quay" is not docker or google`},
		"UnknownSourceKey":   {"source: {type: docker, repository: r, image: x}\n", nil, `source: unknown key "image"`},
		"NoRepository":       {"source: {type: docker}\n", nil, "source: repository: field required"},
		"GoogleMissing":      {"source: {type: google, location: l, projectId: p, repository: r}\n", nil, "source: image: field required"},
		"NumberNotString":    {"source: {type: docker, repository: 5}\n", nil, "source: repository: 5 is not a string"},
		"BadLevel":           {"source: {type: docker, repository: r}\nlogLevel: LOUD\n", nil, `log_level: "LOUD" is not one of`},
		"BadProfile":         {"source: {type: docker, repository: r}\nlogProfile: Production\n", nil, `log_profile: "Production" is not one of`},
		"UnknownImageType":   {"source: {type: docker, repository: r}\nprune: {nightly: {}}\n", nil, `prune: unknown key "nightly"`},
		"UnknownFilterKey":   {"source: {type: docker, repository: r}\nprune: {weekly: {newest: 1}}\n", nil, `prune: weekly: unknown key "newest"`},
		"NegativeNumber":     {"source: {type: docker, repository: r}\nprune: {daily: {number: -1}}\n", nil, "prune: daily: number: -1 is negative"},
		"FractionalNumber":   {"source: {type: docker, repository: r}\nprune: {daily: {number: 1.5}}\n", nil, "prune: daily: number: 1.5 is not an integer"},
		"BadAge":             {"source: {type: docker, repository: r}\nprune: {weekly: {age: old}}\n", nil, `prune: weekly: age: could not parse "old" as a time period`},
		"AgeUnitsOutOfOrder": {"source: {type: docker, repository: r}\nprune: {weekly: {age: 3h2d}}\n", nil, "could not parse"},
		"BadDate":            {"source: {type: docker, repository: r}\nprune: {weekly: {cutoffDate: yesterday}}\n", nil, "prune: weekly: cutoff_date: yesterday is not a valid datetime"},
		"BadVersion":         {"source: {type: docker, repository: r}\nprune: {release: {cutoffVersion: '27'}}\n", nil, "Release filter: cutoffVersion"},
		"EnvNotJSON":         {"source: {type: docker, repository: r}\n", []string{"NUBLADO_PRUNE=weekly"}, "NUBLADO_PRUNE: not JSON"},
		"EnvBadSource":       {"", []string{`NUBLADO_SOURCE={"type":"docker"}`}, "source: repository: field required"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseToolConfig([]byte(tc.yaml), tc.environ)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want, "ParseToolConfig error")
		})
	}
}

func TestLoadToolConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images.yaml")
	require.NoError(t, os.WriteFile(path, []byte("source: {type: docker, repository: r}\n"), 0o600))
	cfg, err := LoadToolConfig(path, nil)
	require.NoError(t, err)
	assert.Equal(t, "r", cfg.Docker.Repository)
	_, err = LoadToolConfig(filepath.Join(t.TempDir(), "missing.yaml"), nil)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	require.NoError(t, os.WriteFile(path, []byte("source: {type: docker}\n"), 0o600))
	_, err = LoadToolConfig(path, nil)
	assert.ErrorContains(t, err, path)
}
