package schema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema"
)

// buildConfig is base.yaml with two sizes, lab secrets, a pull secret,
// namespace annotations, lab.env and a home-directory schema.
const buildConfig = `
EXTERNAL_INSTANCE_URL: https://data.example.org
lab:
  activityInterval: 90m
  env: {SITE: test, HUB_ROUTE: /nb/hub}
  homedirPrefix: /u/home/
  homedirSchema: initialThenUsername
  homedirSuffix: /jhome/
  labStartCommand: [/opt/run lab.sh, --flag]
  namespaceAnnotations: {"cni/networks": "{{uid}}/{{ gid }}"}
  pullSecret: pull
  secrets:
    - {secretName: zeta, secretKey: z-key}
    - {secretName: alpha, secretKey: a-key, env: A_KEY}
  sizes:
    - size: small
      resources:
        limits: {cpu: 1.0, memory: 3Gi}
        requests: {cpu: 0.25, memory: 0.75Gi}
    - size: large
      resources:
        limits: {cpu: 9, memory: 27Gi}
        requests: {cpu: 2.25, memory: 6.7Gi}
`

// buildCfg parses testdata/base.yaml with buildConfig and then patch (if
// not empty) merged in.
func buildCfg(t testing.TB, patch string) *schema.Config {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "base.yaml"))
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &cfg))
	for _, p := range []string{buildConfig, patch} {
		var m map[string]any
		require.NoError(t, yaml.Unmarshal([]byte(p), &m))
		merge(cfg, m)
	}
	data, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	c, err := schema.Parse(data, "config.yaml", schema.WithLookupEnv(noEnv))
	require.NoError(t, err)
	return c
}

func ptr[T any](v T) *T { return &v }

// rachel returns a user with a 9 CPU / 27 GiB notebook quota.
func rachel() nublado.User {
	return nublado.User{
		Username: "rachel", Name: ptr("Rachel (?)"), UID: ptr(int64(1101)), GID: ptr(int64(1101)),
		Groups: []nublado.Group{{Name: "rachel", ID: 1101}, {Name: "ünïcode", ID: 2028}},
		Quota:  &nublado.Quota{Notebook: &nublado.NotebookQuota{CPU: 9, Memory: 27, Spawn: true}},
	}
}

// request returns a complete request for rachel, size small.
func request() schema.LabRequest {
	return schema.LabRequest{
		User:  rachel(),
		Token: "delegated-token",
		Size:  "small",
		Env:   map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/", "CONTAINER_SIZE": "spawner's", "HUB_ROUTE": "/spawner"},
		Image: schema.LabImage{Reference: "registry.example.org/sciplat/lab:w_2077_43",
			Digest: "sha256:5678", DisplayName: "Weekly 2077_43"},
		Namespace: "nublado",
		Secrets: map[string]map[string][]byte{
			"alpha": {"a-key": []byte("a value"), "unused": []byte("x")},
			"zeta":  {"z-key": []byte("z value")},
			"other": {"k": []byte("v")},
		},
		PullSecret: &schema.SecretCopy{Type: "kubernetes.io/dockerconfigjson", Data: map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}},
		Discovery:  []byte(`{"services":{"internal":{"gafaelfawr":{"url":"https://x/auth","description":"dropped"}}}}`),
	}
}

func testEnvironment() schema.Environment {
	return schema.Environment{
		ControllerImage:   schema.ContainerImage{Repository: "ghcr.io/lsst-sqre/nublado", Tag: "11.1.1", PullPolicy: "Always"},
		RepertoireBaseURL: "https://data.example.org/repertoire",
	}
}

func TestLabInput(t *testing.T) {
	cfg := buildCfg(t, "")
	in, err := cfg.LabInput(testEnvironment(), request())
	require.NoError(t, err, "LabInput")

	assert.Equal(t, schema.User{
		Username: "rachel", Name: ptr("Rachel (?)"), UID: 1101, GID: 1101,
		Groups: []schema.UserGroup{{Name: "rachel", ID: 1101}, {Name: "ünïcode", ID: 2028}},
	}, in.User)
	assert.Equal(t, "userlabs-rachel", in.Namespace)
	assert.Equal(t, schema.Image{Reference: "registry.example.org/sciplat/lab:w_2077_43@sha256:5678",
		Digest: "sha256:5678", Description: "Weekly 2077_43"}, in.Image)
	assert.Equal(t, schema.ResolvedSize{
		Name: "small", Label: "Small (1.0 CPU, 3Gi RAM)",
		Limits:       schema.Quantities{CPU: "1.0", Memory: "3221225472"},
		Requests:     schema.Quantities{CPU: "0.25", Memory: "805306368"},
		TmpSizeLimit: "805306368",
	}, in.Size)
	assert.Equal(t, &schema.Quantities{CPU: "9.0", Memory: "28991029248"}, in.Quota)
	assert.Equal(t, "/u/home/r/rachel/jhome", in.HomeDirectory)
	assert.Equal(t, `[{"name": "rachel", "id": 1101}, {"name": "\u00fcn\u00efcode", "id": 2028}]`, in.GroupsAnnotation)
	assert.Equal(t, "{\n  \"services\": {\n    \"internal\": {\n      \"gafaelfawr\": {\n        \"url\": \"https://x/auth\"\n      }\n    }\n  }\n}", in.DiscoveryFile)
	assert.Equal(t, map[string]string{"cni/networks": "1101/1101"}, in.NamespaceAnnotations)
	assert.Equal(t, map[string][]byte{"a-key": []byte("a value"), "z-key": []byte("z value"), "token": []byte("delegated-token")}, in.SecretData)
	assert.Equal(t, request().PullSecret, in.PullSecret)
	assert.Equal(t, schema.ContainerImageRef{Reference: "ghcr.io/lsst-sqre/nublado:11.1.1", PullPolicy: "Always"}, in.ControllerImage)
	assert.Equal(t, map[string]string{
		"JUPYTERHUB_SERVICE_PREFIX":    "/nb/user/rachel/",
		"HUB_ROUTE":                    "/nb/hub", // lab.env wins over the spawner
		"SITE":                         "test",
		"JUPYTER_IMAGE":                "registry.example.org/sciplat/lab:w_2077_43@sha256:5678",
		"JUPYTER_IMAGE_SPEC":           "registry.example.org/sciplat/lab:w_2077_43@sha256:5678",
		"IMAGE_DESCRIPTION":            "Weekly 2077_43",
		"IMAGE_DIGEST":                 "sha256:5678",
		"CONTAINER_SIZE":               "Small (1.0 CPU, 3Gi RAM)", // Nublado's wins over the spawner
		"CPU_GUARANTEE":                "0.25",
		"CPU_LIMIT":                    "1.0",
		"MEM_GUARANTEE":                "805306368",
		"MEM_LIMIT":                    "3221225472",
		"JUPYTERHUB_ACTIVITY_INTERVAL": "5400",
		"EXTERNAL_INSTANCE_URL":        "https://data.example.org",
		"JUPYTERLAB_CONFIG_DIR":        "/opt/lsst/software/jupyterlab",
		"JUPYTERLAB_START_COMMAND":     "'/opt/run lab.sh' --flag",
		"NUBLADO_RUNTIME_MOUNTS_DIR":   "/etc/nublado",
		"REPERTOIRE_BASE_URL":          "https://data.example.org/repertoire",
	}, in.Env)
}

func TestLabInputVariants(t *testing.T) {
	cases := map[string]struct {
		reason string
		patch  string
		env    func(*schema.Environment)
		req    func(*schema.LabRequest)
		check  func(*testing.T, *schema.LabInput)
	}{
		"DebugAndReset": {
			reason: "enable_debug and reset_user_env add DEBUG and RESET_USER_ENV",
			req:    func(r *schema.LabRequest) { r.EnableDebug, r.ResetUserEnv = true, true },
			check: func(t *testing.T, in *schema.LabInput) {
				assert.Equal(t, "TRUE", in.Env["DEBUG"])
				assert.Equal(t, "TRUE", in.Env["RESET_USER_ENV"])
			},
		},
		"NoFlags": {
			reason: "without the options neither variable is set",
			check: func(t *testing.T, in *schema.LabInput) {
				assert.NotContains(t, in.Env, "DEBUG")
				assert.NotContains(t, in.Env, "RESET_USER_ENV")
			},
		},
		"NoQuota": {
			reason: "a user without a notebook quota gets no ResourceQuota",
			req:    func(r *schema.LabRequest) { r.User.Quota = nil },
			check:  func(t *testing.T, in *schema.LabInput) { assert.Nil(t, in.Quota) },
		},
		"QuotaWithoutNotebook": {
			reason: "a quota without a notebook part is no quota",
			req:    func(r *schema.LabRequest) { r.User.Quota = &nublado.Quota{} },
			check:  func(t *testing.T, in *schema.LabInput) { assert.Nil(t, in.Quota) },
		},
		"FractionalQuota": {
			reason: "memory GiB are truncated to whole bytes, CPU keeps Python's float text",
			req: func(r *schema.LabRequest) {
				r.User.Quota.Notebook = &nublado.NotebookQuota{CPU: 2.5, Memory: 3.3, Spawn: true}
			},
			check: func(t *testing.T, in *schema.LabInput) {
				assert.Equal(t, &schema.Quantities{CPU: "2.5", Memory: "3543348019"}, in.Quota)
			},
		},
		"NullName": {
			reason: "a user without display name keeps a nil name",
			req:    func(r *schema.LabRequest) { r.User.Name = nil },
			check:  func(t *testing.T, in *schema.LabInput) { assert.Nil(t, in.User.Name) },
		},
		"LargeSize": {
			reason: "integral CPU gets .0; /tmp is a quarter of the memory limit",
			req:    func(r *schema.LabRequest) { r.Size = "large" },
			check: func(t *testing.T, in *schema.LabInput) {
				assert.Equal(t, "Large (9.0 CPU, 27Gi RAM)", in.Size.Label)
				assert.Equal(t, schema.Quantities{CPU: "9.0", Memory: "28991029248"}, in.Size.Limits)
				assert.Equal(t, schema.Quantities{CPU: "2.25", Memory: "7194070220"}, in.Size.Requests)
				assert.Equal(t, "7247757312", in.Size.TmpSizeLimit)
			},
		},
		"NoDigest": {
			reason: "an image without digest runs its reference as given",
			req:    func(r *schema.LabRequest) { r.Image.Digest = "" },
			check: func(t *testing.T, in *schema.LabInput) {
				assert.Equal(t, "registry.example.org/sciplat/lab:w_2077_43", in.Image.Reference)
				assert.Equal(t, "registry.example.org/sciplat/lab:w_2077_43", in.Env["JUPYTER_IMAGE_SPEC"])
				assert.Equal(t, "", in.Env["IMAGE_DIGEST"])
			},
		},
		"NoDiscovery": {
			reason: "no discovery document gives an empty discovery file",
			req:    func(r *schema.LabRequest) { r.Discovery = nil },
			check:  func(t *testing.T, in *schema.LabInput) { assert.Equal(t, "{}", in.DiscoveryFile) },
		},
		"NoRepertoire": {
			reason: "REPERTOIRE_BASE_URL is copied only when set",
			env:    func(e *schema.Environment) { e.RepertoireBaseURL = "" },
			check:  func(t *testing.T, in *schema.LabInput) { assert.NotContains(t, in.Env, "REPERTOIRE_BASE_URL") },
		},
		"MinimalConfig": {
			reason: "without lab.secrets, pullSecret and annotations only token is copied",
			patch:  "lab: {pullSecret: __delete__, secrets: __delete__, namespaceAnnotations: __delete__, homedirPrefix: __delete__, homedirSchema: __delete__, homedirSuffix: __delete__}",
			req:    func(r *schema.LabRequest) { r.Secrets, r.PullSecret = nil, nil },
			check: func(t *testing.T, in *schema.LabInput) {
				assert.Equal(t, map[string][]byte{"token": []byte("delegated-token")}, in.SecretData)
				assert.Nil(t, in.PullSecret)
				assert.Nil(t, in.NamespaceAnnotations)
				assert.Equal(t, "/home/rachel", in.HomeDirectory)
			},
		},
		"EmptyToken": {
			reason: "an empty token is copied as is",
			req:    func(r *schema.LabRequest) { r.Token = "" },
			check:  func(t *testing.T, in *schema.LabInput) { assert.Equal(t, []byte{}, in.SecretData["token"]) },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := buildCfg(t, tc.patch)
			env := testEnvironment()
			if tc.env != nil {
				tc.env(&env)
			}
			req := request()
			if tc.req != nil {
				tc.req(&req)
			}
			in, err := cfg.LabInput(env, req)
			require.NoError(t, err, "LabInput: %s", tc.reason)
			tc.check(t, in)
		})
	}
}

func TestLabInputErrors(t *testing.T) {
	loc := []string{"body", "options", "size"}
	cases := map[string]struct {
		reason string
		patch  string
		req    func(*schema.LabRequest)
		want   *nublado.Error
	}{
		"SpawnForbidden": {
			reason: "a quota with spawn false forbids spawning",
			req:    func(r *schema.LabRequest) { r.User.Quota.Notebook.Spawn = false },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Spawning a notebook is not permitted"},
		},
		"SpawnForbiddenBeforeUID": {
			reason: "the quota check comes before the uid check",
			req:    func(r *schema.LabRequest) { r.User.Quota.Notebook.Spawn, r.User.UID = false, nil },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Spawning a notebook is not permitted"},
		},
		"NoUID": {
			reason: "a user without uid cannot spawn",
			req:    func(r *schema.LabRequest) { r.User.UID = nil },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Must have a UID to spawn labs"},
		},
		"ZeroUID": {
			reason: "uid 0 is refused (D1)",
			req:    func(r *schema.LabRequest) { r.User.UID = ptr(int64(0)) },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Must have a UID to spawn labs"},
		},
		"NoGID": {
			reason: "a user without gid cannot spawn",
			req:    func(r *schema.LabRequest) { r.User.GID = nil },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Must have a GID to spawn labs"},
		},
		"ZeroGID": {
			reason: "gid 0 is refused (D1)",
			req:    func(r *schema.LabRequest) { r.User.GID = ptr(int64(0)) },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Must have a GID to spawn labs"},
		},
		"UsernameUpperCase": {
			reason: "upper case cannot name a namespace",
			req:    func(r *schema.LabRequest) { r.User.Username = "Rachel" },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: `Username "Rachel" cannot be used to name Kubernetes objects`},
		},
		"UsernameUnderscore": {
			reason: "an underscore cannot name a namespace",
			req:    func(r *schema.LabRequest) { r.User.Username = "ra_chel" },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: `Username "ra_chel" cannot be used to name Kubernetes objects`},
		},
		"UsernameTrailingDash": {
			reason: "a trailing dash is not a DNS label",
			req:    func(r *schema.LabRequest) { r.User.Username = "rachel-" },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: `Username "rachel-" cannot be used to name Kubernetes objects`},
		},
		"UsernameEmpty": {
			reason: "an empty username names nothing",
			req:    func(r *schema.LabRequest) { r.User.Username = "" },
			want:   &nublado.Error{Code: nublado.CodePermissionDenied, Message: `Username "" cannot be used to name Kubernetes objects`},
		},
		"UsernameTooLong": {
			reason: "userlabs- plus 55 characters is 64, one too many for a namespace",
			req:    func(r *schema.LabRequest) { r.User.Username = strings.Repeat("a", 55) },
			want: &nublado.Error{Code: nublado.CodePermissionDenied,
				Message: `Username "` + strings.Repeat("a", 55) + `" cannot be used to name Kubernetes objects`},
		},
		"UnknownSize": {
			reason: "a size lab.sizes does not define",
			req:    func(r *schema.LabRequest) { r.Size = "gargantuan" },
			want:   &nublado.Error{Code: nublado.CodeInvalidLabSize, Loc: loc, Message: `Invalid lab size "gargantuan"`},
		},
		"NoSizes": {
			reason: "a configuration without sizes refuses every size (D5)",
			patch:  "lab: {sizes: __delete__}",
			want:   &nublado.Error{Code: nublado.CodeInvalidLabSize, Loc: loc, Message: `Invalid lab size "small"`},
		},
		"QuotaCPU": {
			reason: "9 CPU limit over a 8.5 CPU quota",
			req: func(r *schema.LabRequest) {
				r.Size, r.User.Quota.Notebook.CPU = "large", 8.5
			},
			want: &nublado.Error{Code: nublado.CodeInsufficientQuota, Loc: loc, Message: "Insufficient quota to spawn requested lab"},
		},
		"QuotaMemory": {
			reason: "27 GiB limit over a 26.9 GiB quota",
			req: func(r *schema.LabRequest) {
				r.Size, r.User.Quota.Notebook.Memory = "large", 26.9
			},
			want: &nublado.Error{Code: nublado.CodeInsufficientQuota, Loc: loc, Message: "Insufficient quota to spawn requested lab"},
		},
		"NoServicePrefix": {
			reason: "the spawner's env must set JUPYTERHUB_SERVICE_PREFIX",
			req:    func(r *schema.LabRequest) { delete(r.Env, "JUPYTERHUB_SERVICE_PREFIX") },
			want: &nublado.Error{Code: nublado.CodeValueError, Loc: []string{"body", "env"},
				Message: "Value error, JUPYTERHUB_SERVICE_PREFIX must be set"},
		},
		"MissingSecretsSorted": {
			reason: "source Secrets are read in sorted name order: alpha before zeta",
			req:    func(r *schema.LabRequest) { r.Secrets = nil },
			want:   &nublado.Error{Code: nublado.CodeMissingSecret, Message: "Secret nublado/alpha does not exist"},
		},
		"MissingSecret": {
			reason: "a Secret lab.secrets names must exist",
			req:    func(r *schema.LabRequest) { delete(r.Secrets, "zeta") },
			want:   &nublado.Error{Code: nublado.CodeMissingSecret, Message: "Secret nublado/zeta does not exist"},
		},
		"MissingKey": {
			reason: "the key lab.secrets names must be in its Secret",
			req:    func(r *schema.LabRequest) { delete(r.Secrets["alpha"], "a-key") },
			want:   &nublado.Error{Code: nublado.CodeMissingSecret, Message: "No key a-key in secret nublado/alpha"},
		},
		"MissingPullSecret": {
			reason: "the Secret lab.pullSecret names must exist",
			req:    func(r *schema.LabRequest) { r.PullSecret = nil },
			want:   &nublado.Error{Code: nublado.CodeMissingSecret, Message: "Secret nublado/pull does not exist"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := buildCfg(t, tc.patch)
			req := request()
			if tc.req != nil {
				tc.req(&req)
			}
			in, err := cfg.LabInput(testEnvironment(), req)
			assert.Nil(t, in)
			var got *nublado.Error
			require.ErrorAs(t, err, &got, "LabInput: %s", tc.reason)
			assert.Equal(t, tc.want, got, "LabInput: %s", tc.reason)
			assert.NotContains(t, err.Error(), "delegated-token")
		})
	}
}

func TestLabInputBadDiscovery(t *testing.T) {
	cfg := buildCfg(t, "")
	req := request()
	req.Discovery = []byte("not json")
	_, err := cfg.LabInput(testEnvironment(), req)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "decoding the discovery document")
}

func TestCheckLabRequest(t *testing.T) {
	cfg := buildCfg(t, "")
	size, err := cfg.CheckLabRequest(rachel(), "large")
	require.NoError(t, err)
	assert.Equal(t, "large", size.Size)

	// Exactly at the quota is allowed.
	u := rachel()
	u.Quota.Notebook.CPU, u.Quota.Notebook.Memory = 9, 27
	_, err = cfg.CheckLabSize(u, "large")
	require.NoError(t, err, "CheckLabSize at the quota")

	// The longest username that fits: userlabs- plus 54 characters.
	u.Username = strings.Repeat("a", 54)
	require.NoError(t, cfg.CheckLabUser(u), "CheckLabUser(54 characters)")

	// A notebook quota without spawn key allows spawning.
	u = rachel()
	u.Quota.Notebook = &nublado.NotebookQuota{CPU: 1, Memory: 3, Spawn: true}
	require.NoError(t, cfg.CheckLabUser(u))
	_, err = cfg.CheckLabSize(u, "small")
	require.NoError(t, err, "CheckLabSize(small) with quota 1 CPU / 3 GiB")
}

func TestNewLabImage(t *testing.T) {
	img := images.NewImage(images.ParseTag("d_2077_10_23"), "lighthouse.ceres", "library/sketchbook", "sha256:1234")
	got := schema.NewLabImage(img)
	assert.Equal(t, schema.LabImage{Reference: "lighthouse.ceres/library/sketchbook:d_2077_10_23",
		Digest: "sha256:1234", DisplayName: "Daily 2077_10_23"}, got)
	assert.Equal(t, "lighthouse.ceres/library/sketchbook:d_2077_10_23@sha256:1234", got.WithDigest())
}
