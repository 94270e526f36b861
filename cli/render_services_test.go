package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// servicesConfig enables file servers; its lab has a PVC volume that both
// the file server and fsadmin mount, and a pull secret for prepull pods.
const servicesConfig = `
lab:
  namespacePrefix: labs
  pullSecret: registry-pull
  tolerations:
    - {key: dedicated, operator: Equal, value: labs, effect: NoSchedule}
  sizes:
    - size: small
      resources:
        limits: {cpu: 1, memory: 2Gi}
        requests: {cpu: 0.5, memory: 1Gi}
  volumes:
    - name: home
      source: {type: hostPath, path: /srv/home}
    - name: scratch
      source: {type: persistentVolumeClaim, storageClassName: standard, accessModes: [ReadWriteMany], resources: {requests: {storage: 1Gi}}}
  volumeMounts:
    - {containerPath: /home, volumeName: home}
    - {containerPath: /scratch, volumeName: scratch, readOnly: true}
images:
  source: {type: docker, registry: registry.example.org, repository: sciplat/lab}
fileserver:
  enabled: true
  namespace: fileservers
  extraAnnotations: {example.org/team: storage}
  resources:
    limits: {cpu: 1, memory: 512Mi}
    requests: {cpu: 0.1, memory: 128Mi}
  volumeMounts:
    - {containerPath: /home, volumeName: home}
    - {containerPath: /scratch, volumeName: scratch}
fsadmin:
  mountPrefix: /fs
`

// servicesUser is the file server's owner.
const servicesUser = `{"username": "hypatia", "name": "Hypatia", "uid": 4242, "gid": 4242,
  "groups": [{"name": "hypatia", "id": 4242}, {"name": "astronomers", "id": 3001}]}`

// serviceFiles writes the configuration, the user, a configuration with
// file servers disabled and a pod-metadata directory, and returns their
// paths.
type serviceFiles struct {
	config, disabled, user, metadata string
}

func writeServiceFiles(t *testing.T, podName, podUID string) serviceFiles {
	t.Helper()
	dir := t.TempDir()
	f := serviceFiles{
		config:   filepath.Join(dir, "config.yaml"),
		disabled: filepath.Join(dir, "disabled.yaml"),
		user:     filepath.Join(dir, "user.json"),
		metadata: filepath.Join(dir, "podinfo"),
	}
	disabled := strings.Replace(servicesConfig, "enabled: true", "enabled: false", 1)
	require.NoError(t, os.Mkdir(f.metadata, 0o700))
	for path, data := range map[string]string{
		f.config: servicesConfig, f.disabled: disabled, f.user: servicesUser,
		filepath.Join(f.metadata, "name"): podName, filepath.Join(f.metadata, "namespace"): "nublado\n",
		filepath.Join(f.metadata, "uid"): podUID,
	} {
		require.NoError(t, os.WriteFile(path, []byte(data), 0o600))
	}
	return f
}

// execute runs the nublado command line.
func execute(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Execute(ctx, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRenderServices(t *testing.T) {
	f := writeServiceFiles(t, "nublado-controller", "0b6f2c1e-8d4a-4f3e-9a71-5c2d8e4b1f09")
	image := "registry.example.org/sciplat/lab:w_2077_43@sha256:0123456789abcdef"
	t.Setenv("NUBLADO_CONTROLLER_REPOSITORY", "ghcr.io/lsst-sqre/nublado")
	t.Setenv("NUBLADO_CONTROLLER_TAG", "15.1.0")
	cases := map[string]struct {
		args   []string
		code   int
		stdout []string // substrings of stdout
		stderr string   // substring of stderr
	}{
		"Fileserver": {
			args: []string{"render", "fileserver", "--strict", "--config", f.config, "--user", f.user},
			stdout: []string{"kind: PersistentVolumeClaim\n", "  name: hypatia-fs-pvc-scratch\n", "kind: GafaelfawrIngress\n",
				"kind: Service\n", "kind: Job\n", "        - name: WORBLEHAT_TIMEOUT\n          value: \"3600\"\n"},
		},
		"FileserverJSON": {
			args:   []string{"render", "fileserver", "--config", f.config, "--user", f.user, "-o", "json"},
			stdout: []string{"[\n  {\n", `"host": "127.0.0.1"`},
		},
		"FSAdmin": {
			args:   []string{"render", "fsadmin", "--strict", "--config", f.config, "--namespace", "admin"},
			stdout: []string{"  name: fsadmin-pvc-scratch\n  namespace: admin\n", "    - mountPath: /fs/scratch\n      name: scratch\n      readOnly: false\n"},
		},
		"Prepull": {
			args: []string{"render", "prepull", "--strict", "--config", f.config, "--metadata", f.metadata,
				"--image", image, "--node", "node-1"},
			stdout: []string{"  name: prepull-w-2077-43-node-1\n", "    name: nublado-controller\n",
				"  imagePullSecrets:\n  - name: registry-pull\n", "  nodeName: node-1\n"},
		},
		"FileserverDisabled": {
			args: []string{"render", "fileserver", "--config", f.disabled, "--user", f.user},
			code: ExitFailure, stderr: "Error: Fileserver is disabled in configuration (not_supported)\n",
		},
		"FileserverBadUser": {
			args: []string{"render", "fileserver", "--config", f.config, "--user", f.config},
			code: ExitFailure, stderr: "--user " + f.config,
		},
		"PrepullWithoutDigest": {
			args: []string{"render", "prepull", "--config", f.config, "--metadata", f.metadata,
				"--image", "registry.example.org/sciplat/lab:w_2077_43", "--node", "node-1"},
			code: ExitFailure, stderr: "not of the form registry/repository:tag@digest",
		},
		"PrepullWithoutMetadata": {
			args: []string{"render", "prepull", "--config", f.config, "--metadata", filepath.Join(f.metadata, "missing"),
				"--image", image, "--node", "node-1"},
			code: ExitFailure, stderr: "reading pod metadata",
		},
		"MissingConfig": {
			args: []string{"render", "fsadmin"},
			code: ExitUsage, stderr: `required flag(s) "config" not set`,
		},
		"MissingNode": {
			args: []string{"render", "prepull", "--config", f.config, "--metadata", f.metadata, "--image", image},
			code: ExitUsage, stderr: `required flag(s) "node" not set`,
		},
		"BadOutput": {
			args: []string{"render", "fsadmin", "--config", f.config, "-o", "toml"},
			code: ExitUsage, stderr: `-o must be yaml or json, not "toml"`,
		},
		"ApplyBadInput": {
			args: []string{"apply", "fileserver", "--config", f.disabled, "--user", f.user},
			code: ExitFailure, stderr: "Fileserver is disabled in configuration",
		},
		"DiffBadInput": {
			args: []string{"diff", "fileserver", "--config", f.disabled, "--user", f.user},
			code: exitDiffTrouble, stderr: "Fileserver is disabled in configuration",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, stderr := execute(context.Background(), tc.args...)
			require.Equal(t, tc.code, code, "nublado %s: stderr:\n%s", strings.Join(tc.args, " "), stderr)
			for _, s := range tc.stdout {
				assert.Contains(t, out, s, "nublado %s", strings.Join(tc.args, " "))
			}
			assert.Contains(t, stderr, tc.stderr, "nublado %s", strings.Join(tc.args, " "))
		})
	}
}
