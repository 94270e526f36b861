package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/schema/units"
)

func TestDefaults(t *testing.T) {
	cfg, err := schema.Load(filepath.Join("testdata", "base.yaml"), schema.WithLookupEnv(noEnv))
	require.NoError(t, err)
	assert.Equal(t, schema.DefaultBaseURL, cfg.BaseURL)
	assert.Equal(t, "INFO", cfg.LogLevel)
	assert.Equal(t, "production", cfg.LogProfile)
	assert.Equal(t, "/etc/podinfo", cfg.MetadataPath)
	assert.Equal(t, "Nublado", cfg.Name)
	assert.Equal(t, "/nublado", cfg.PathPrefix)
	assert.Equal(t, 3*time.Minute, cfg.WatchReconnectTimeout)
	assert.Equal(t, schema.FileserverConfig{PathPrefix: "/files"}, cfg.Fileserver)
	lab := cfg.Lab
	assert.Equal(t, time.Hour, lab.ActivityInterval)
	assert.Equal(t, time.Minute, lab.DeleteTimeout)
	assert.Equal(t, 5*time.Minute, lab.ReconcileInterval)
	assert.Equal(t, 10*time.Minute, lab.SpawnTimeout)
	assert.Equal(t, schema.EmptyDirMemory, lab.EmptyDirSource)
	assert.Equal(t, "/opt/lsst/software/jupyterlab", lab.JupyterlabConfigDir)
	assert.Equal(t, "/home", lab.HomedirPrefix)
	assert.Equal(t, schema.HomedirUsername, lab.HomedirSchema)
	assert.Equal(t, "home", lab.HomeVolumeName)
	assert.Equal(t, []string{"/opt/lsst/software/jupyterlab/runlab.sh"}, lab.LabStartCommand)
	assert.Equal(t, "/etc/nublado", lab.RuntimeMountsDir)
	assert.Equal(t, schema.NSSConfig{BasePasswd: "root:x:0:0:root:/root:/bin/bash\n", BaseGroup: "root:x:0:\n"}, lab.NSS)
	assert.Equal(t, map[string]string{}, lab.Env)
	assert.Equal(t, []schema.LabSecret{}, lab.Secrets)
	assert.Equal(t, schema.Resources{
		Limits:   schema.ResourceValues{CPU: 1, Memory: 3 << 30},
		Requests: schema.ResourceValues{CPU: 0.25, Memory: 805306368},
	}, lab.Sizes[0].Resources)
	im := cfg.Images
	assert.Equal(t, "docker.io", im.Source.Registry)
	assert.Equal(t, 5*time.Minute, im.RefreshInterval)
	assert.Equal(t, 10*time.Minute, im.PrepullTimeout)
	assert.Equal(t, "recommended", im.RecommendedTag)
	assert.Equal(t, []int{1, 2, 3}, []int{im.NumReleases, im.NumWeeklies, im.NumDailies})
	assert.Nil(t, im.Cycle)
	assert.Equal(t, "/etc/secrets/.dockerconfigjson", im.DockerCredentialsPath)
	assert.Equal(t, "fsadmin", cfg.FSAdmin.PodName)
	assert.Equal(t, 2*time.Minute, cfg.FSAdmin.Timeout)
	assert.Empty(t, cfg.Warnings())
}

func TestSnakeCase(t *testing.T) {
	cfg, err := schema.Load(filepath.Join("testdata", "snake.yaml"), schema.WithLookupEnv(noEnv))
	require.NoError(t, err)
	assert.Equal(t, "https://example.org", cfg.BaseURL)
	assert.Equal(t, "https://hooks.example.org/x", cfg.SlackWebhook)
	assert.Equal(t, "WARNING", cfg.LogLevel)
	assert.Equal(t, "development", cfg.LogProfile)
	assert.Equal(t, "/podinfo", cfg.MetadataPath)
	assert.Equal(t, "/nb", cfg.PathPrefix)
	assert.Equal(t, 90*time.Second, cfg.WatchReconnectTimeout)
	rc := cfg.DropdownMenu.ReleaseCandidate
	require.NotNil(t, rc)
	assert.Equal(t, 2, rc.Number)
	assert.Equal(t, 4, rc.CutoffBuild)
	assert.Equal(t, "27.0.0", rc.CutoffVersion)
	assert.Equal(t, time.Date(2024, 2, 3, 0, 0, 0, 0, time.UTC), *rc.CutoffDate)
	lab := cfg.Lab
	assert.Equal(t, 30*time.Minute, lab.ActivityInterval)
	assert.Equal(t, "small", lab.DefaultSize)
	assert.Equal(t, 2*time.Minute, lab.DeleteTimeout)
	assert.Equal(t, schema.EmptyDirDisk, lab.EmptyDirSource)
	assert.Equal(t, map[string]string{"a.example.org/b": "c"}, lab.ExtraAnnotations)
	assert.Equal(t, "/usr/local/share/jupyterlab", lab.JupyterlabConfigDir)
	assert.Equal(t, "/u/home", lab.HomedirPrefix, "trailing slash stripped")
	assert.Equal(t, "jhome", lab.HomedirSuffix, "slashes stripped")
	assert.Equal(t, schema.HomedirInitialThenUsername, lab.HomedirSchema)
	assert.Equal(t, "data", lab.HomeVolumeName)
	assert.Equal(t, []string{"/run"}, lab.LabStartCommand)
	assert.Equal(t, "labs", lab.NamespacePrefix)
	assert.Equal(t, "pull", lab.PullSecret)
	assert.Equal(t, 10*time.Minute, lab.ReconcileInterval)
	assert.Equal(t, "/usr/local/nublado", lab.RuntimeMountsDir)
	assert.Equal(t, 10*time.Minute, lab.SpawnTimeout)
	assert.True(t, lab.StandardInithome)
	assert.Equal(t, "root:x:0:0::/:/bin/sh\n", lab.NSS.BasePasswd)
	assert.Equal(t, []schema.LabSecret{{SecretName: "s", SecretKey: "k"}}, lab.Secrets)
	assert.Equal(t, units.CPU(2), lab.Sizes[0].Resources.Limits.CPU)
	assert.Equal(t, units.CPU(0.5), lab.Sizes[0].Resources.Requests.CPU)
	assert.Equal(t, int64(4e9), lab.Sizes[0].Resources.Limits.Memory)
	require.NotNil(t, lab.Tolerations[0].TolerationSeconds)
	assert.Equal(t, int64(30), *lab.Tolerations[0].TolerationSeconds)
	require.NotNil(t, lab.Affinity)
	pref := lab.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	require.Len(t, pref, 1)
	assert.Equal(t, int32(5), pref[0].Weight)
	assert.Equal(t, "zone", pref[0].Preference.MatchExpressions[0].Key)
	anti := lab.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	require.Len(t, anti, 1)
	assert.Equal(t, "kubernetes.io/hostname", anti[0].TopologyKey)
	assert.Equal(t, map[string]string{"app": "lab"}, anti[0].LabelSelector.MatchLabels)
	ic := lab.InitContainers[0]
	assert.Equal(t, "Always", ic.Image.PullPolicy)
	assert.Equal(t, schema.VolumeMount{ContainerPath: "/data", SubPath: "x", ReadOnly: true, VolumeName: "data"}, ic.VolumeMounts[0])
	assert.Equal(t, schema.VolumeSource{Type: schema.VolumeNFS, Server: "nfs.example.org", ServerPath: "/data", ReadOnly: true}, lab.Volumes[0].Source)
	pvc := lab.Volumes[1].Source
	assert.Equal(t, "rwx", pvc.StorageClassName)
	assert.Equal(t, []string{"ReadWriteMany"}, pvc.AccessModes)
	assert.Equal(t, map[string]string{"storage": "1Gi"}, pvc.Resources.Requests)
	src := cfg.Images.Source
	assert.Equal(t, "proj", src.ProjectID)
	assert.Equal(t, "us-central1-docker.pkg.dev", src.Host())
	assert.Equal(t, "proj/repo/img", src.Path())
	assert.Equal(t, "projects/proj/locations/us-central1/repositories/repo", src.GARParent())
	assert.Equal(t, time.Minute, cfg.Images.RefreshInterval)
	assert.Equal(t, "rec", cfg.Images.RecommendedTag)
	assert.Equal(t, []string{"latest"}, cfg.Images.AliasTags)
	assert.Empty(t, cfg.Images.DockerCredentialsPath)
	fs := cfg.Fileserver
	assert.True(t, fs.Enabled)
	assert.Equal(t, "/fs", fs.PathPrefix)
	assert.Equal(t, []time.Duration{3 * time.Minute, 4 * time.Minute, 5 * time.Minute, 6 * time.Minute},
		[]time.Duration{fs.CreationTimeout, fs.DeleteTimeout, fs.IdleTimeout, fs.ReconcileInterval})
	assert.Equal(t, map[string]string{"role": "fs"}, fs.NodeSelector)
	fa := cfg.FSAdmin
	assert.Equal(t, "admin", fa.PodName)
	assert.Equal(t, "/fsadmin", fa.MountPrefix)
	assert.Equal(t, "extra", fa.ExtraVolumes[0].Name)
	assert.Equal(t, "/extra", fa.ExtraVolumeMounts[0].ContainerPath)
}

func TestPositions(t *testing.T) {
	_, err := schema.Load(filepath.Join("testdata", "positions.yaml"), schema.WithLookupEnv(noEnv))
	require.Error(t, err)
	var got []string
	for _, fe := range fieldErrors(t, err) {
		got = append(got, fe.Error())
	}
	file := filepath.Join("testdata", "positions.yaml")
	want := []string{
		file + ":1:1: logLevel: Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'",
		file + ":5:5: lab.env.ACCESS_TOKEN: Lab environment variable ACCESS_TOKEN reserved for Nublado",
		file + ":10:7: lab.volumeMounts.0: Unknown mounted volume hoem",
		file + ":12:3: lab.spawnTimeout: Could not parse forever as a time period",
	}
	assert.Equal(t, want, got, "Load(positions.yaml): every error at once, sorted, with positions")
}

func TestSyntaxError(t *testing.T) {
	_, err := parse(t, []byte("lab:\n  env: [\n"))
	require.Error(t, err)
	fes := fieldErrors(t, err)
	assert.Equal(t, "config.yaml", fes[0].Pos.Filename)
	assert.Positive(t, fes[0].Pos.Line)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := schema.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestEnvironmentOverrides(t *testing.T) {
	env := map[string]string{
		"EXTERNAL_INSTANCE_URL": "https://env.example.org",
		"NUBLADO_SLACK_WEBHOOK": "https://hooks.example.org/env",
		"METRICS_ENABLED":       "true",
		"METRICS_APPLICATION":   "nublado",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	cfg, err := schema.Parse(patched(t, `{}`), "c.yaml", schema.WithLookupEnv(lookup))
	require.NoError(t, err)
	assert.Equal(t, "https://env.example.org", cfg.BaseURL)
	assert.Equal(t, "https://hooks.example.org/env", cfg.SlackWebhook)
	assert.True(t, cfg.Metrics.Enabled)
	assert.Equal(t, "nublado", cfg.Metrics.Application)

	cfg, err = schema.Parse(patched(t, `{EXTERNAL_INSTANCE_URL: "https://yaml.example.org", slack_webhook: null, metrics: {enabled: false}}`), "c.yaml", schema.WithLookupEnv(lookup))
	require.NoError(t, err)
	assert.Equal(t, "https://yaml.example.org", cfg.BaseURL, "YAML beats the environment")
	assert.Empty(t, cfg.SlackWebhook, "an explicit null beats the environment")
	assert.False(t, cfg.Metrics.Enabled)

	cfg, err = schema.Parse(patched(t, `{base_url: "https://snake.example.org"}`), "c.yaml", schema.WithLookupEnv(lookup))
	require.NoError(t, err)
	assert.Equal(t, "https://snake.example.org", cfg.BaseURL)
}

func TestReadEnvironment(t *testing.T) {
	env, warns := schema.ReadEnvironment(noEnv)
	assert.Equal(t, schema.ContainerImage{Repository: "ghcr.io/lsst-sqre/nublado", Tag: "11.0.0", PullPolicy: "IfNotPresent"}, env.ControllerImage)
	assert.Len(t, warns, 2)
	vals := map[string]string{
		"NUBLADO_CONTROLLER_REPOSITORY":  "example/nublado",
		"NUBLADO_CONTROLLER_TAG":         "1.2.3",
		"NUBLADO_CONTROLLER_PULL_POLICY": "ALWAYS",
		"REPERTOIRE_BASE_URL":            "https://example.org/repertoire",
	}
	env, warns = schema.ReadEnvironment(func(k string) (string, bool) { v, ok := vals[k]; return v, ok })
	assert.Empty(t, warns)
	assert.Equal(t, schema.ContainerImage{Repository: "example/nublado", Tag: "1.2.3", PullPolicy: "Always"}, env.ControllerImage)
	assert.Equal(t, "example/nublado:1.2.3", env.ControllerImage.Reference())
	assert.Equal(t, "https://example.org/repertoire", env.RepertoireBaseURL)
	vals["NUBLADO_CONTROLLER_PULL_POLICY"] = "never"
	env, _ = schema.ReadEnvironment(func(k string) (string, bool) { v, ok := vals[k]; return v, ok })
	assert.Equal(t, "Never", env.ControllerImage.PullPolicy)
	vals["NUBLADO_CONTROLLER_PULL_POLICY"] = "sometimes"
	env, _ = schema.ReadEnvironment(func(k string) (string, bool) { v, ok := vals[k]; return v, ok })
	assert.Equal(t, "IfNotPresent", env.ControllerImage.PullPolicy)
}

func TestWarnings(t *testing.T) {
	cfg, err := parse(t, patched(t, `lab: {sizes: __delete__, tolerations: [{key: k, value: v, effect: NoSchedule, tolerationSeconds: 60}, {key: "", operator: Exists}], env: {"BAD KEY": x}, volumes: [{name: home, source: {type: persistentVolumeClaim, storageClassName: s, accessModes: [ReadWriteMany], resources: {requests: {storage: lots}}}}]}`))
	require.NoError(t, err)
	var got []string
	for _, w := range cfg.Warnings() {
		got = append(got, w.Path+": "+w.Message)
		assert.Positive(t, w.Pos.Line, "warning %s has a line", w)
	}
	assert.Contains(t, got, "lab.sizes: no lab sizes are defined: every lab creation will fail with invalid_lab_size")
	assert.Contains(t, got, `lab.tolerations.0.tolerationSeconds: Kubernetes rejects this pod: effect must be 'NoExecute' when tolerationSeconds is set (effect is "NoSchedule")`)
	assert.Contains(t, got, `lab.volumes.0.source.resources.requests.storage: Kubernetes rejects this claim: "lots" is not a resource quantity`)
	assert.Len(t, got, 4, "warnings: %q", got)
}

func TestMarshalJSON(t *testing.T) {
	cfg, err := parse(t, patched(t, `lab: {tolerations: [{key: "", operator: Exists}, {key: k, value: v, effect: NoExecute, tolerationSeconds: 5}], affinity: {podAffinity: {required: [{topologyKey: z}]}}}`))
	require.NoError(t, err)
	b, err := json.Marshal(cfg.Lab.Tolerations)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"key":"","operator":"Exists"},{"effect":"NoExecute","key":"k","operator":"Equal","tolerationSeconds":5,"value":"v"}]`, string(b))
	b, err = json.Marshal(cfg.Lab.Affinity)
	require.NoError(t, err)
	assert.JSONEq(t, `{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"topologyKey":"z"}]}}`, string(b), "empty lists omitted")
	b, err = json.Marshal(cfg.Lab.Sizes[0].Resources)
	require.NoError(t, err)
	assert.Equal(t, `{"limits":{"cpu":1.0,"memory":3221225472},"requests":{"cpu":0.25,"memory":805306368}}`, string(b))
	b, err = json.Marshal(cfg)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.NotContains(t, m, "slackWebhook")
	assert.Equal(t, float64(time.Hour), m["lab"].(map[string]any)["activityInterval"], "durations marshal as nanoseconds")
}
