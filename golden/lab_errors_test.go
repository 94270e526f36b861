package golden_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/cli"
)

// override replaces the value of flag in args (or appends the flag).
func override(args []string, flag, value string) []string {
	out := slices.Clone(args)
	if i := slices.Index(out, flag); i >= 0 {
		out[i+1] = value
		return out
	}
	return append(out, flag, value)
}

// without removes flag and its value from args.
func without(args []string, flag string) []string {
	out := slices.Clone(args)
	if i := slices.Index(out, flag); i >= 0 {
		out = slices.Delete(out, i, i+2)
	}
	return out
}

// mutated writes a copy of a common JSON input changed by change into a
// temporary file and returns its path.
func mutated(t *testing.T, file string, change func(map[string]any)) string {
	data, err := os.ReadFile(filepath.Join("testdata", commonDir, file))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	change(m)
	return writeTemp(t, file, mustJSON(t, m))
}

func writeTemp(t *testing.T, name, content string) string {
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func mustJSON(t *testing.T, v any) string {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// user, spec and secrets return the flag and file of a changed common
// input.
func user(change func(map[string]any)) func(*testing.T) (string, string) {
	return func(t *testing.T) (string, string) { return "--user", mutated(t, "user.json", change) }
}

func spec(change func(map[string]any)) func(*testing.T) (string, string) {
	return func(t *testing.T) (string, string) { return "--spec", mutated(t, "spec.json", change) }
}

func options(change func(map[string]any)) func(*testing.T) (string, string) {
	return spec(func(m map[string]any) { change(m["options"].(map[string]any)) })
}

func secrets(change func(map[string]any)) func(*testing.T) (string, string) {
	return func(t *testing.T) (string, string) { return "--secrets", mutated(t, "secrets.json", change) }
}

func notebookQuota(m map[string]any) map[string]any {
	return m["quota"].(map[string]any)["notebook"].(map[string]any)
}

// configWith is the common config with text appended to the lab section's
// first line.
func configWith(t *testing.T, edit func(string) string) string {
	data, err := os.ReadFile(filepath.Join("testdata", commonDir, "config.yaml"))
	require.NoError(t, err)
	return writeTemp(t, "config.yaml", edit(string(data)))
}

// TestLabBadInput runs `nublado render lab` on the standard case with one
// input broken and checks the exit code and the whole of stderr. {file} in
// a wanted message stands for the broken input's path.
func TestLabBadInput(t *testing.T) {
	cases := map[string]struct {
		reason string
		input  func(*testing.T) (flag, path string)
		args   func([]string) []string
		want   string
	}{
		"InvalidSize": {
			reason: "a size the configuration does not define",
			input:  options(func(o map[string]any) { o["size"] = "gargantuan" }),
			want:   `Invalid lab size "gargantuan" (invalid_lab_size, at body.options.size)`,
		},
		"InsufficientQuota": {
			reason: "huge (16 CPU, 48 GiB) over the 8 CPU / 24 GiB quota",
			input:  options(func(o map[string]any) { o["size"] = "huge" }),
			want:   "Insufficient quota to spawn requested lab (insufficient_quota, at body.options.size)",
		},
		"InsufficientQuotaMemory": {
			reason: "large needs 24 GiB, the quota is 23.5",
			input: user(func(u map[string]any) {
				notebookQuota(u)["memory"] = 23.5
			}),
			args: func(a []string) []string {
				return override(a, "--spec", "testdata/sizes/spec.json")
			},
			want: "Insufficient quota to spawn requested lab (insufficient_quota, at body.options.size)",
		},
		"SpawnForbidden": {
			reason: "a notebook quota with spawn false",
			input:  user(func(u map[string]any) { notebookQuota(u)["spawn"] = false }),
			want:   "Spawning a notebook is not permitted (permission_denied)",
		},
		"NoUID": {
			reason: "a user without uid",
			input:  user(func(u map[string]any) { delete(u, "uid") }),
			want:   "Must have a UID to spawn labs (permission_denied)",
		},
		"ZeroUID": {
			reason: "uid 0 (decision D1)",
			input:  user(func(u map[string]any) { u["uid"] = 0 }),
			want:   "Must have a UID to spawn labs (permission_denied)",
		},
		"NoGID": {
			reason: "a user without gid",
			input:  user(func(u map[string]any) { u["gid"] = nil }),
			want:   "Must have a GID to spawn labs (permission_denied)",
		},
		"ZeroGID": {
			reason: "gid 0 (decision D1)",
			input:  user(func(u map[string]any) { u["gid"] = 0 }),
			want:   "Must have a GID to spawn labs (permission_denied)",
		},
		"InvalidUsername": {
			reason: "a username that is not a DNS label",
			input:  user(func(u map[string]any) { u["username"] = "Hypatia_1" }),
			want:   `Username "Hypatia_1" cannot be used to name Kubernetes objects (permission_denied)`,
		},
		"UsernameTooLong": {
			reason: "nb- plus 61 characters is a 64-character namespace",
			input:  user(func(u map[string]any) { u["username"] = strings.Repeat("h", 61) }),
			want:   `Username "` + strings.Repeat("h", 61) + `" cannot be used to name Kubernetes objects (permission_denied)`,
		},
		"NoServicePrefix": {
			reason: "the spawner env lacks JUPYTERHUB_SERVICE_PREFIX",
			input: spec(func(s map[string]any) {
				delete(s["env"].(map[string]any), "JUPYTERHUB_SERVICE_PREFIX")
			}),
			want: "--spec {file}: invalid create request:\nbody.env: Value error, JUPYTERHUB_SERVICE_PREFIX must be set (value_error)",
		},
		"ImageSeveralWays": {
			reason: "image_class and image_tag together",
			input: spec(func(s map[string]any) {
				s["options"] = map[string]any{"image_class": "recommended", "image_tag": "w_2077_44", "size": "small"}
			}),
			want: "--spec {file}: invalid create request:\nbody.options: Value error, Image specified multiple ways (image_class, image_tag) (value_error)",
		},
		"NoImage": {
			reason: "no image attribute at all",
			input: spec(func(s map[string]any) {
				s["options"] = map[string]any{"image_list": "use_image_from_dropdown", "size": "small"}
			}),
			want: "--spec {file}: invalid create request:\nbody.options: Value error, No image to spawn specified (value_error)",
		},
		"InvalidBoolean": {
			reason: "enable_debug \"on\" is not a boolean",
			input:  options(func(o map[string]any) { o["enable_debug"] = "on" }),
			want:   "--spec {file}: invalid create request:\nbody.options.enable_debug: Value error, Invalid boolean value on (value_error)",
		},
		"UnknownSizeName": {
			reason: "a size outside the enum is a validation error, both problems listed",
			input: options(func(o map[string]any) {
				o["size"], o["reset_user_env"] = "enormous", []any{"yes"}
			}),
			want: "--spec {file}: invalid create request:\n" +
				"body.options.size: Input should be 'fine', 'diminutive', 'tiny', 'small', 'medium', 'large', 'huge', 'gargantuan', 'colossal' or 'custom' (enum)\n" +
				"body.options.reset_user_env: Value error, Invalid boolean value yes (value_error)",
		},
		"SpecNotJSON": {
			reason: "a create body that is not JSON",
			input:  func(t *testing.T) (string, string) { return "--spec", writeTemp(t, "spec.json", `{"options": `) },
			want:   "--spec {file}: invalid create request:\nbody.12: JSON decode error (json_invalid)",
		},
		"UnknownTag": {
			reason: "image_tag not in the registry",
			input:  spec(func(s map[string]any) { s["options"] = map[string]any{"image_tag": "w_1999_01", "size": "small"} }),
			want:   `Docker tag "w_1999_01" not found (unknown_image, at body.options.image_tag)`,
		},
		"ReferenceWithoutTag": {
			reason: "a reference without tag",
			input: spec(func(s map[string]any) {
				s["options"] = map[string]any{"image_list": "registry.example.org/lsst-sqre/sciplat-lab", "size": "small"}
			}),
			want: `Docker reference "registry.example.org/lsst-sqre/sciplat-lab" has no tag (invalid_docker_reference, at body.options.image_list)`,
		},
		"UnparsableReference": {
			reason: "a reference without registry (decision D2)",
			input: spec(func(s map[string]any) {
				s["options"] = map[string]any{"image_dropdown": "sciplat-lab", "size": "small"}
			}),
			want: `Docker reference "sciplat-lab" is invalid (invalid_docker_reference, at body.options.image_dropdown)`,
		},
		"OtherRepository": {
			reason: "a reference to another repository",
			input: spec(func(s map[string]any) {
				s["options"] = map[string]any{"image_dropdown": "other.example.org/x/y:w_2077_44", "size": "small"}
			}),
			want: `Docker reference "other.example.org/x/y:w_2077_44" not found (unknown_image, at body.options.image_dropdown)`,
		},
		"NoLatestRelease": {
			reason: "an image class with no image in the prepull set",
			input: func(t *testing.T) (string, string) {
				return "--registry", writeTemp(t, "registry.json", `{"w_2077_44": "sha256:44", "d_2077_11_02": "sha256:02"}`)
			},
			args: func(a []string) []string { return override(a, "--spec", "testdata/common/spec-small.json") },
			want: "No recommended image found (unknown_image, at body.options.image_class)",
		},
		"ClassWithoutRegistry": {
			reason: "an image class needs --registry",
			args: func(a []string) []string {
				return override(without(a, "--registry"), "--spec", "testdata/common/spec-small.json")
			},
			want: `image_class "recommended" can only be resolved with --registry`,
		},
		"MissingSecret": {
			reason: "a Secret lab.secrets names is missing",
			input:  secrets(func(s map[string]any) { delete(s, "site-credentials") }),
			want:   "Secret nublado/site-credentials does not exist (missing_secret)",
		},
		"MissingSecretsSorted": {
			reason: "without --secrets the first Secret in name order is reported, in --namespace",
			args: func(a []string) []string {
				return override(without(a, "--secrets"), "--namespace", "rsp-controller")
			},
			want: "Secret rsp-controller/aws-credentials does not exist (missing_secret)",
		},
		"MissingKey": {
			reason: "a key lab.secrets names is missing from its Secret",
			input: secrets(func(s map[string]any) {
				delete(s["site-credentials"].(map[string]any), "butler-password")
			}),
			want: "No key butler-password in secret nublado/site-credentials (missing_secret)",
		},
		"MissingPullSecret": {
			reason: "the Secret lab.pullSecret names is missing",
			input:  secrets(func(s map[string]any) { delete(s, "registry-pull") }),
			want:   "Secret nublado/registry-pull does not exist (missing_secret)",
		},
		"BadDiscovery": {
			reason: "a discovery document that is not JSON",
			input:  func(t *testing.T) (string, string) { return "--discovery", writeTemp(t, "discovery.json", "<html>") },
			want:   "decoding the discovery document: invalid character '<' looking for beginning of value",
		},
		"BadUserFile": {
			reason: "a user file that is not JSON",
			input:  func(t *testing.T) (string, string) { return "--user", writeTemp(t, "user.json", "{") },
			want:   "--user {file}: unexpected end of JSON input",
		},
		"MissingUserFile": {
			reason: "a user file that does not exist",
			args:   func(a []string) []string { return override(a, "--user", "testdata/common/nobody.json") },
			want:   "reading --user: open testdata/common/nobody.json: no such file or directory",
		},
		"InvalidConfig": {
			reason: "a configuration that does not load lists its problems",
			input: func(t *testing.T) (string, string) {
				return "--config", configWith(t, func(s string) string {
					return strings.Replace(s, "    API_ROUTE: /api\n", "    API_ROUTE: /api\n    ACCESS_TOKEN: x\n", 1)
				})
			},
			want: "invalid configuration:\n{file}:18:5: lab.env.ACCESS_TOKEN: Lab environment variable ACCESS_TOKEN reserved for Nublado",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := caseArgs(t, "standard")
			file := ""
			if tc.input != nil {
				var flag string
				flag, file = tc.input(t)
				args = override(args, flag, file)
			}
			if tc.args != nil {
				args = tc.args(args)
			}
			code, out, stderr := run(args...)
			assert.Equal(t, cli.ExitFailure, code, "render lab: %s", tc.reason)
			assert.Empty(t, out, "render lab: %s", tc.reason)
			want := "Error: " + strings.ReplaceAll(tc.want, "{file}", file) + "\n"
			assert.Equal(t, want, stderr, "render lab: %s", tc.reason)
			assert.NotContains(t, stderr, token, "render lab: the token never appears in errors")
		})
	}
}

// TestLabNoSizes renders with a configuration without lab.sizes (decision
// D5): it loads with a warning and every size is invalid.
func TestLabNoSizes(t *testing.T) {
	args := caseArgs(t, "homedir-schema")
	cfg := writeTemp(t, "config.yaml", "lab:\n  namespacePrefix: labs\n  volumes:\n"+
		"    - {name: home, source: {type: nfs, server: nfs.example.org, serverPath: /home}}\n"+
		"images:\n  source: {type: docker, repository: lsst-sqre/sciplat-lab}\nfsadmin: {}\n")
	code, _, stderr := run(override(args, "--config", cfg)...)
	assert.Equal(t, cli.ExitFailure, code)
	assert.Equal(t, "warning: "+cfg+":1:1: lab.sizes: no lab sizes are defined: every lab creation will fail with invalid_lab_size\n"+
		`Error: Invalid lab size "small" (invalid_lab_size, at body.options.size)`+"\n", stderr)
}

// TestLabUsage checks the command-line errors of render lab (exit 2) and
// that apply lab and diff lab report bad input before contacting a
// cluster, with their own exit codes.
func TestLabUsage(t *testing.T) {
	cases := map[string]struct {
		args func([]string) []string
		code int
		want string
	}{
		"NoConfig": {
			args: func(a []string) []string { return without(a, "--config") },
			code: cli.ExitUsage,
			want: `Error: required flag(s) "config" not set` + "\n",
		},
		"NoUserNoSpec": {
			args: func(a []string) []string { return without(without(a, "--user"), "--spec") },
			code: cli.ExitUsage,
			want: `Error: required flag(s) "spec", "user" not set` + "\n",
		},
		"BadOutput": {
			args: func(a []string) []string { return append(a, "-o", "xml") },
			code: cli.ExitUsage,
			want: `Error: -o must be yaml or json, not "xml"` + "\n",
		},
		"UnknownFlag": {
			args: func(a []string) []string { return append(a, "--frobnicate") },
			code: cli.ExitUsage,
			want: "Error: unknown flag: --frobnicate\n",
		},
		"Argument": {
			args: func(a []string) []string { return append(a, "extra") },
			code: cli.ExitUsage,
			want: `Error: unknown command "extra" for "nublado render lab"` + "\n",
		},
		"NoSubcommand": {
			args: func([]string) []string { return []string{"render"} },
			code: cli.ExitUsage,
			want: "Error: render needs a subcommand: lab\n",
		},
		"ApplyBadInput": {
			args: func(a []string) []string {
				return append([]string{"apply"}, override(a, "--namespace", "elsewhere")[1:]...)
			},
			code: cli.ExitFailure,
			want: "Error: Secret elsewhere/aws-credentials does not exist (missing_secret)\n",
		},
		"DiffBadInput": {
			args: func(a []string) []string {
				return append([]string{"diff"}, override(a, "--namespace", "elsewhere")[1:]...)
			},
			code: 2,
			want: "Error: Secret elsewhere/aws-credentials does not exist (missing_secret)\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := caseArgs(t, "standard")
			if strings.HasSuffix(name, "BadInput") {
				args = without(args, "--secrets")
			}
			code, out, stderr := run(tc.args(args)...)
			assert.Equal(t, tc.code, code, "nublado %v", tc.args(args))
			assert.Empty(t, out)
			assert.Equal(t, tc.want, stderr)
		})
	}
}
