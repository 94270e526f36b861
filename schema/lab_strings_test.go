package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
)

func TestGroupsAnnotation(t *testing.T) {
	cases := map[string]struct {
		groups []schema.UserGroup
		want   string
	}{
		"None":  {nil, "[]"},
		"Plain": {[]schema.UserGroup{{Name: "rachel", ID: 1101}, {Name: "99numbers", ID: 2029}}, `[{"name": "rachel", "id": 1101}, {"name": "99numbers", "id": 2029}]`},
		"Escapes": {[]schema.UserGroup{{Name: "g\"r\\p</a>&\n\x01é😀", ID: 1}},
			`[{"name": "g\"r\\p</a>&\n\u0001\u00e9\ud83d\ude00", "id": 1}]`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, schema.GroupsAnnotation(tc.groups), "GroupsAnnotation: -want +got")
		})
	}
}

func TestShellJoin(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"Safe":             {[]string{"/opt/lsst/software/jupyterlab/runlab.sh"}, "/opt/lsst/software/jupyterlab/runlab.sh"},
		"Spaces":           {[]string{"/bin/sh", "-c", "echo hi"}, "/bin/sh -c 'echo hi'"},
		"Quote":            {[]string{"it's"}, `'it'"'"'s'`},
		"Empty":            {[]string{"a", ""}, "a ''"},
		"Safe punctuation": {[]string{"a@b%c+d=e:f,g.h/i_j-k"}, "a@b%c+d=e:f,g.h/i_j-k"},
		"Unsafe":           {[]string{"$HOME", "a*b", "é"}, `'$HOME' 'a*b' 'é'`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, schema.ShellJoin(tc.args), "ShellJoin(%q)", tc.args)
		})
	}
}

func TestHomeDirectory(t *testing.T) {
	assert.Equal(t, "/home/rachel", schema.HomeDirectory("/home", "username", "", "rachel"))
	assert.Equal(t, "/u/home/r/rachel/jhome", schema.HomeDirectory("/u/home/", "initialThenUsername", "/jhome/", "rachel"))
	assert.Equal(t, "/home/rachel/a/b", schema.HomeDirectory("/home", "username", "a/b/", "rachel"))
}

func TestNamespaceAnnotations(t *testing.T) {
	got := schema.NamespaceAnnotations(map[string]string{
		"a": "{{uid}}/1",
		"b": "{{ gid }}-{{uid}}",
		"c": "{{ other }}",
	}, 1101, 2000)
	assert.Equal(t, map[string]string{"a": "1101/1", "b": "2000-1101", "c": "{{ other }}"}, got)
	assert.Nil(t, schema.NamespaceAnnotations(nil, 1, 1))
}

func TestDiscoveryFile(t *testing.T) {
	doc := `{
  "applications": ["nublado"],
  "datasets": {
    "dp1": {"butler_config": "https://x/butler.yaml", "description": "drop me",
            "services": {"cutout": {"url": "https://x/cutout", "openapi": "drop",
                                    "versions": {"sync": {"url": "https://x/sync", "ivoa_standard_id": "drop"}}}}},
    "dp0": {"description": "no butler"}
  },
  "influxdb_databases": {"efd": {"url": "https://x/influx", "database": "efd", "extra": 1}},
  "services": {"internal": {"gafaelfawr": {"url": "https://x/auth", "versions": {"v1": {"url": "https://x/auth/v1"}}}},
               "ui": {"portal": {"url": "https://x/portal"}}}
}`
	want := `{
  "datasets": {
    "dp0": {},
    "dp1": {
      "butler_config": "https://x/butler.yaml",
      "services": {
        "cutout": {
          "url": "https://x/cutout",
          "versions": {
            "sync": {
              "url": "https://x/sync"
            }
          }
        }
      }
    }
  },
  "influxdb_databases": {
    "efd": {
      "database": "efd",
      "local": false,
      "url": "https://x/influx"
    }
  },
  "services": {
    "internal": {
      "gafaelfawr": {
        "url": "https://x/auth",
        "versions": {
          "v1": {
            "url": "https://x/auth/v1"
          }
        }
      }
    }
  }
}`
	got, err := schema.DiscoveryFile([]byte(doc))
	require.NoError(t, err)
	assert.Equal(t, want, got, "DiscoveryFile: -want +got")

	empty, err := schema.DiscoveryFile([]byte(`{"ui": {}}`))
	require.NoError(t, err)
	assert.Equal(t, "{}", empty, "DiscoveryFile: empty sections are omitted")

	_, err = schema.DiscoveryFile([]byte(`[`))
	assert.Error(t, err)
}

func TestLabEnv(t *testing.T) {
	got := schema.LabEnv(schema.LabEnvParams{
		SpawnerEnv: map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/", "CONTAINER_SIZE": "from spawner", "A": "spawner"},
		Debug:      true,
		Image:      schema.Image{Reference: "r/i:t@sha256:1", Digest: "sha256:1", Description: "Daily"},
		Size: schema.ResolvedSize{Label: "Small (1.0 CPU, 3Gi RAM)",
			Limits: schema.Quantities{CPU: "1.0", Memory: "3221225472"}, Requests: schema.Quantities{CPU: "0.25", Memory: "805306368"}},
		ActivityIntervalSeconds: 7200,
		BaseURL:                 "http://127.0.0.1:8080",
		JupyterlabConfigDir:     "/opt/lsst/software/jupyterlab",
		LabStartCommand:         []string{"/run lab.sh"},
		RuntimeMountsDir:        "/etc/nublado",
		LabEnv:                  map[string]string{"A": "lab"},
	})
	want := map[string]string{
		"JUPYTERHUB_SERVICE_PREFIX":    "/nb/user/rachel/",
		"A":                            "lab",
		"DEBUG":                        "TRUE",
		"JUPYTER_IMAGE":                "r/i:t@sha256:1",
		"JUPYTER_IMAGE_SPEC":           "r/i:t@sha256:1",
		"IMAGE_DESCRIPTION":            "Daily",
		"IMAGE_DIGEST":                 "sha256:1",
		"CONTAINER_SIZE":               "Small (1.0 CPU, 3Gi RAM)",
		"CPU_GUARANTEE":                "0.25",
		"CPU_LIMIT":                    "1.0",
		"MEM_GUARANTEE":                "805306368",
		"MEM_LIMIT":                    "3221225472",
		"JUPYTERHUB_ACTIVITY_INTERVAL": "7200",
		"EXTERNAL_INSTANCE_URL":        "http://127.0.0.1:8080",
		"JUPYTERLAB_CONFIG_DIR":        "/opt/lsst/software/jupyterlab",
		"JUPYTERLAB_START_COMMAND":     "'/run lab.sh'",
		"NUBLADO_RUNTIME_MOUNTS_DIR":   "/etc/nublado",
	}
	assert.Equal(t, want, got, "LabEnv: -want +got")
}
