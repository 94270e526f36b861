package schema_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ruleCase is a patch of testdata/base.yaml and the error it must give
// (empty path and message: the patched config is valid).
type ruleCase struct {
	reason string
	patch  string
	path   string
	msg    string
}

const cpuMsg = "CPU must be specified as a whole number of milli-cores, like 500m, or a decimal number with no more than three places of precision, like 1.234"

// ruleCases cover each rule of the configuration schema (spec §2).
var ruleCases = map[string]ruleCase{
	// Valid variants.
	"Base":                     {"the base config is valid", `{}`, "", ""},
	"FsadminIgnoresUnknown":    {"fsadmin ignores old chart keys", `fsadmin: {image: {repository: r, tag: t}, command: [a], application: x}`, "", ""},
	"DisabledFileserverIgnore": {"a disabled file server ignores other keys", `fileserver: {enabled: false, image: {repository: r}, namespace: fs}`, "", ""},
	"NoSizes":                  {"sizes may be omitted (D5)", `lab: {sizes: __delete__}`, "", ""},
	"BothSpellingsAgree":       {"camel and snake spellings with one value", `lab: {spawnTimeout: 5m, spawn_timeout: 5m}`, "", ""},
	"MetricsUnknownKeys":       {"metrics is Safir's and open", `metrics: {enabled: false, appName: nublado, events: {topicPrefix: x}, kafka: {x: 1}}`, "", ""},
	"NumericDurations":         {"durations as numbers and numeric strings", `lab: {spawnTimeout: 10, deleteTimeout: "0.5", activityInterval: 4h 3minutes}`, "", ""},
	"NullOptionals":            {"optional scalar values may be null", `lab: {application: null, pullSecret: null, defaultSize: null}`, "", ""},
	"PVCVolume":                {"PVC volumes with RWX", `lab: {volumes: [{name: home, source: {type: persistentVolumeClaim, storageClassName: s, accessModes: [ReadWriteMany, ReadOnlyMany], resources: {requests: {storage: 1Gi}}}}]}`, "", ""},
	"TolerationExistsEmptyKey": {"Exists with key empty", `lab: {tolerations: [{key: "", operator: Exists}]}`, "", ""},
	"SizesAnyOrder":            {"sizes in any order", `lab: {defaultSize: tiny, sizes: [{size: large, resources: {limits: {cpu: 2, memory: 2G}, requests: {cpu: 2, memory: 2G}}}, {size: tiny, resources: {limits: {cpu: 100m, memory: 64ki}, requests: {cpu: 100m, memory: 64ki}}}]}`, "", ""},

	// Top level.
	"UnknownTopKey":   {"top level forbids unknown keys", `bogus: 1`, "bogus", "field not allowed"},
	"BaseUrlCamel":    {"baseUrl is not an accepted key", `baseUrl: https://x`, "baseUrl", "field not allowed"},
	"LogLevel":        {"log level enum", `logLevel: LOUD`, "logLevel", "Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"},
	"LogProfile":      {"log profile enum", `logProfile: pretty`, "logProfile", "Input should be 'production' or 'development'"},
	"MissingLab":      {"lab is required", `lab: __delete__`, "lab", "field is required but not present"},
	"MissingImages":   {"images is required", `images: __delete__`, "images", "field is required but not present"},
	"MissingFsadmin":  {"fsadmin is required", `fsadmin: __delete__`, "fsadmin", "field is required but not present"},
	"WatchTimeout":    {"watchReconnectTimeout is a duration", `watchReconnectTimeout: soon`, "watchReconnectTimeout", "Could not parse soon as a time period"},
	"FileserverMount": {"file-server mounts name lab volumes", `fileserver: {enabled: true, namespace: fs, volumeMounts: [{containerPath: /x, volumeName: nope}]}`, "fileserver.volumeMounts.0", "Unknown mounted volume nope in file servers"},

	// lab.
	"LabUnknownKey":     {"lab forbids unknown keys (old tmpSource)", `lab: {tmpSource: disk}`, "lab.tmpSource", "field not allowed"},
	"MissingPrefix":     {"namespacePrefix is required", `lab: {namespacePrefix: __delete__}`, "lab.namespacePrefix", "field is required but not present"},
	"EnvReserved":       {"reserved env var", `lab: {env: {ACCESS_TOKEN: x}}`, "lab.env.ACCESS_TOKEN", "Lab environment variable ACCESS_TOKEN reserved for Nublado"},
	"EnvJupyterhub":     {"JUPYTERHUB_ prefix reserved", `lab: {env: {JUPYTERHUB_FOO: x}}`, "lab.env.JUPYTERHUB_FOO", "Lab environment variable JUPYTERHUB_FOO reserved for Nublado"},
	"EnvMemLimit":       {"MEM_LIMIT reserved", `lab: {env: {MEM_LIMIT: "1"}}`, "lab.env.MEM_LIMIT", "Lab environment variable MEM_LIMIT reserved for Nublado"},
	"FilesPasswd":       {"files over /etc/passwd", `lab: {files: {/etc/passwd: x}}`, "lab.files./etc/passwd", "Cannot mount volume over /etc/passwd"},
	"FilesTmp":          {"files over /tmp", `lab: {files: {/tmp: x}}`, "lab.files./tmp", "Cannot mount volume over /tmp"},
	"NoHome":            {"home volume missing", `lab: {volumes: [], volumeMounts: []}`, "lab.homeVolumeName", "A home volume is required"},
	"OtherHome":         {"homeVolumeName names no volume", `lab: {homeVolumeName: other}`, "lab.homeVolumeName", "A home volume is required"},
	"UnknownMount":      {"lab mounts name volumes", `lab: {volumeMounts: [{containerPath: /x, volumeName: nope}]}`, "lab.volumeMounts.0", "Unknown mounted volume nope"},
	"InitUnknownMount":  {"init-container mounts name volumes", `lab: {initContainers: [{name: i, image: {repository: r, tag: t}, volumeMounts: [{containerPath: /x, volumeName: nope}]}]}`, "lab.initContainers.0.volumeMounts.0", "Unknown mounted volume nope"},
	"DefaultSize":       {"default size must be defined", `lab: {defaultSize: large}`, "lab.defaultSize", "Default size large not defined"},
	"EmptySizes":        {"sizes may not be empty", `lab: {sizes: []}`, "lab.sizes", "At least one lab size must be defined"},
	"DuplicateSize":     {"sizes are unique", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1, memory: 1G}, requests: {cpu: 1, memory: 1G}}}, {size: small, resources: {limits: {cpu: 1, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.1", "Duplicate lab size small"},
	"SizeName":          {"size names are an enum", `lab: {sizes: [{size: enormous, resources: {limits: {cpu: 1, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.size", "Input should be 'fine', 'diminutive', 'tiny', 'small', 'medium', 'large', 'huge', 'gargantuan', 'colossal' or 'custom'"},
	"RequestsCPU":       {"requests.cpu <= limits.cpu", `lab: {sizes: [{size: small, resources: {limits: {cpu: 500m, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.requests.cpu", "requests.cpu must be less than or equal to limits.cpu"},
	"RequestsMemory":    {"requests.memory <= limits.memory", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 1, memory: 1.5Gi}}}]}`, "lab.sizes.0.resources.requests.memory", "requests.memory must be less than or equal to limits.memory"},
	"CPUPrecision":      {"CPU with four decimals", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1.2345, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.limits.cpu", cpuMsg},
	"CPUFractionMilli":  {"fractional millicores", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1.2m, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.limits.cpu", cpuMsg},
	"CPUWord":           {"CPU nope", `lab: {sizes: [{size: small, resources: {limits: {cpu: nope, memory: 1G}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.limits.cpu", cpuMsg},
	"MemoryUnit":        {"memory 24D", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1, memory: 24D}, requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.limits.memory", "24D is not a valid memory quantity"},
	"MemoryWord":        {"memory nope", `lab: {sizes: [{size: small, resources: {limits: {cpu: 1, memory: 1G}, requests: {cpu: 1, memory: nope}}}]}`, "lab.sizes.0.resources.requests.memory", "nope is not a valid memory quantity"},
	"SizeMissingLimits": {"limits are required", `lab: {sizes: [{size: small, resources: {requests: {cpu: 1, memory: 1G}}}]}`, "lab.sizes.0.resources.limits", "field is required but not present"},
	"SecretToken":       {"secret key token reserved", `lab: {secrets: [{secretName: s, secretKey: token}]}`, "lab.secrets.0", `secret_key "token" is reserved and may not be used`},
	"SecretDuplicate":   {"secret keys unique", `lab: {secrets: [{secretName: s, secretKey: k}, {secretName: t, secretKey: k}]}`, "lab.secrets.1", "Duplicate secret_key k"},
	"SecretUnknownKey":  {"secrets forbid unknown keys", `lab: {secrets: [{secretName: s, secretKey: k, mode: 1}]}`, "lab.secrets.0.mode", "field not allowed"},
	"HomedirRoot":       {"homedirPrefix / is invalid", `lab: {homedirPrefix: /}`, "lab.homedirPrefix", "Invalid home directory prefix"},
	"HomedirRelative":   {"homedirPrefix must be absolute", `lab: {homedirPrefix: home}`, "lab.homedirPrefix", "Invalid home directory prefix"},
	"HomedirSchema":     {"homedirSchema enum", `lab: {homedirSchema: initial}`, "lab.homedirSchema", "Input should be 'username' or 'initialThenUsername'"},
	"EmptyDirSource":    {"emptyDirSource enum", `lab: {emptyDirSource: tmpfs}`, "lab.emptyDirSource", "Input should be 'memory' or 'disk'"},
	"SpawnTimeout":      {"durations reject words", `lab: {spawnTimeout: forever}`, "lab.spawnTimeout", "Could not parse forever as a time period"},
	"ISODuration":       {"ISO 8601 durations are not accepted", `lab: {activityInterval: PT1H}`, "lab.activityInterval", "Could not parse PT1H as a time period"},
	"SnakeBadDuration":  {"snake_case values are checked", `lab: {reconcile_interval: later}`, "lab.reconcileInterval", "Could not parse later as a time period"},
	"NSSUnknown":        {"nss forbids unknown keys", `lab: {nss: {baseShadow: x}}`, "lab.nss.baseShadow", "field not allowed"},

	// Volumes and mounts.
	"VolumeName":       {"volume names are DNS labels", `lab: {volumes: [{name: Home_1, source: {type: hostPath, path: /h}}], homeVolumeName: Home_1, volumeMounts: []}`, "lab.volumes.0.name", "String should match pattern '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"},
	"EmptyDir":         {"emptyDir sources are not accepted", `lab: {volumes: [{name: home, source: {type: emptyDir}}]}`, "lab.volumes.0.source.type", "Input should be 'hostPath', 'nfs' or 'persistentVolumeClaim'"},
	"HostPathRelative": {"hostPath paths are absolute", `lab: {volumes: [{name: home, source: {type: hostPath, path: h}}]}`, "lab.volumes.0.source.path", "String should match pattern '^/.*'"},
	"NFSRelative":      {"NFS server paths are absolute", `lab: {volumes: [{name: home, source: {type: nfs, server: s, serverPath: h}}]}`, "lab.volumes.0.source.serverPath", "String should match pattern '^/.*'"},
	"NFSPathKey":       {"nfs sources forbid hostPath keys", `lab: {volumes: [{name: home, source: {type: nfs, server: s, serverPath: /h, path: /h}}]}`, "lab.volumes.0.source.path", "field not allowed"},
	"NFSMissingServer": {"nfs needs a server", `lab: {volumes: [{name: home, source: {type: nfs, serverPath: /h}}]}`, "lab.volumes.0.source.server", "field is required but not present"},
	"PVCReadWriteOnce": {"PVCs must be shareable", `lab: {volumes: [{name: home, source: {type: persistentVolumeClaim, storageClassName: s, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}]}`, "lab.volumes.0.source.accessModes.0", "Input should be 'ReadOnlyMany' or 'ReadWriteMany'"},
	"MountTmp":         {"no mount over /tmp", `lab: {volumeMounts: [{containerPath: /tmp, volumeName: home}]}`, "lab.volumeMounts.0.containerPath", "Cannot mount volume over /tmp"},
	"MountRelative":    {"mount paths are absolute", `lab: {volumeMounts: [{containerPath: home, volumeName: home}]}`, "lab.volumeMounts.0.containerPath", "String should match pattern '^/.*'"},

	// Init containers.
	"InitPullPolicy": {"pull policy enum", `lab: {initContainers: [{name: i, image: {repository: r, tag: t, pullPolicy: Sometimes}}]}`, "lab.initContainers.0.image.pullPolicy", "Input should be 'Always', 'IfNotPresent' or 'Never'"},
	"InitNoTag":      {"init image needs a tag", `lab: {initContainers: [{name: i, image: {repository: r}}]}`, "lab.initContainers.0.image.tag", "field is required but not present"},

	// images.
	"ImagesUnknown":     {"images forbid unknown keys", `images: {prepull: true}`, "images.prepull", "field not allowed"},
	"SourceType":        {"source type enum", `images: {source: {type: quay, repository: r}}`, "images.source.type", "Input should be 'docker' or 'google'"},
	"DockerNoRepo":      {"docker needs a repository", `images: {source: {type: docker, repository: __delete__}}`, "images.source.repository", "field is required but not present"},
	"GoogleMissing":     {"google needs a location", `images: {source: {type: google, projectId: p, repository: r, image: i}}`, "images.source.location", "field is required but not present"},
	"DockerGoogleKey":   {"docker sources forbid google keys", `images: {source: {type: docker, repository: r, location: x}}`, "images.source.location", "field not allowed"},
	"NegativeReleases":  {"numReleases >= 0", `images: {numReleases: -1}`, "images.numReleases", "invalid value -1 (out of bound >=0)"},
	"RefreshInterval":   {"refreshInterval is a duration", `images: {refreshInterval: often}`, "images.refreshInterval", "Could not parse often as a time period"},
	"FileserverImage":   {"enabled file servers have no image key", `fileserver: {enabled: true, namespace: fs, image: {repository: r}}`, "fileserver.image", "field not allowed"},
	"FileserverNoNS":    {"enabled file servers need a namespace", `fileserver: {enabled: true}`, "fileserver.namespace", "field is required but not present"},
	"FileserverTimeout": {"file-server durations", `fileserver: {enabled: true, namespace: fs, idleTimeout: never}`, "fileserver.idleTimeout", "Could not parse never as a time period"},
	"FsadminTimeout":    {"fsadmin durations", `fsadmin: {timeout: never}`, "fsadmin.timeout", "Could not parse never as a time period"},
	"FsadminVolume":     {"fsadmin volumes use the volume schema", `fsadmin: {extraVolumes: [{name: x, source: {type: emptyDir}}]}`, "fsadmin.extraVolumes.0.source.type", "Input should be 'hostPath', 'nfs' or 'persistentVolumeClaim'"},

	// Kubernetes helpers.
	"TolerationExistsValue": {"Exists takes no value", `lab: {tolerations: [{key: k, operator: Exists, value: v}]}`, "lab.tolerations.0.value", "value must be empty if operator is Exists"},
	"TolerationEqualValue":  {"Equal needs a value", `lab: {tolerations: [{key: k}]}`, "lab.tolerations.0.value", "value is required if operator is Equal"},
	"TolerationEqualKey":    {"Equal needs a key", `lab: {tolerations: [{value: v}]}`, "lab.tolerations.0.key", "key is required if operator is Equal"},
	"TolerationEffect":      {"effect enum", `lab: {tolerations: [{key: k, operator: Exists, effect: Never}]}`, "lab.tolerations.0.effect", "Input should be 'NoSchedule', 'PreferNoSchedule' or 'NoExecute'"},
	"TolerationUnknown":     {"tolerations forbid unknown keys", `lab: {tolerations: [{key: k, operator: Exists, seconds: 1}]}`, "lab.tolerations.0.seconds", "field not allowed"},
	"NodeInNoValues":        {"In needs values", `lab: {affinity: {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: In}]}]}}}}`, "lab.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.values", "values must be non-empty for operator In"},
	"NodeGtWord":            {"Gt needs one integer", `lab: {affinity: {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Gt, values: [a]}]}]}}}}`, "lab.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.values", "values must have exactly one integer for operator Gt"},
	"NodeExistsValues":      {"Exists takes no values", `lab: {affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: k, operator: Exists, values: [a]}]}]}}}}`, "lab.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchFields.0.values", "values must be empty for operator Exists"},
	"NodeOperator":          {"node operator enum", `lab: {affinity: {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Near}]}]}}}}`, "lab.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0.matchExpressions.0.operator", "Input should be 'In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt' or 'Lt'"},
	"PodWeight":             {"pod-affinity weights are 1..100", `lab: {affinity: {podAffinity: {preferred: [{weight: 0, podAffinityTerm: {topologyKey: z}}]}}}`, "lab.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution.0.weight", "weight must be between 1 and 100"},
	"PodTopologyKey":        {"pod-affinity terms need a topology key", `lab: {affinity: {podAntiAffinity: {required: [{namespaces: [a]}]}}}`, "lab.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.topologyKey", "field is required but not present"},
	"LabelOperator":         {"label selector operators exclude Gt", `lab: {affinity: {podAffinity: {required: [{topologyKey: z, labelSelector: {matchExpressions: [{key: k, operator: Gt, values: ["1"]}]}}]}}}`, "lab.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution.0.labelSelector.matchExpressions.0.operator", "Input should be 'In', 'NotIn', 'Exists' or 'DoesNotExist'"},
	"AffinityUnknown":       {"affinity forbids unknown keys", `lab: {affinity: {nodeAffinity: {sometimes: []}}}`, "lab.affinity.nodeAffinity.sometimes", "field not allowed"},

	// dropdownMenu.
	"MenuUnknownType": {"dropdownMenu forbids unknown image types", `dropdownMenu: {nightly: {number: 1}}`, "dropdownMenu.nightly", "field not allowed"},
	"MenuNumber":      {"filter number >= 0", `dropdownMenu: {daily: {number: -1}}`, "dropdownMenu.daily.number", "invalid value -1 (out of bound >=0)"},
	"MenuAge":         {"filter age is a duration", `dropdownMenu: {weekly: {age: old}}`, "dropdownMenu.weekly.age", "Could not parse old as a time period"},
	"MenuVersion":     {"filter cutoffVersion is semver", `dropdownMenu: {release: {cutoffVersion: "27"}}`, "dropdownMenu.release.cutoffVersion", "27 is not a valid semantic version"},
	"MenuDate":        {"filter cutoffDate is a datetime", `dropdownMenu: {release: {cutoffDate: "yesterday"}}`, "dropdownMenu.release.cutoffDate", "Input should be a valid datetime"},
	"MenuUnknownKey":  {"filters forbid unknown keys", `dropdownMenu: {release: {newest: 1}}`, "dropdownMenu.release.newest", "field not allowed"},
}

func TestRules(t *testing.T) {
	for name, tc := range ruleCases {
		t.Run(name, func(t *testing.T) {
			_, err := parse(t, patched(t, tc.patch))
			if tc.path == "" {
				require.NoError(t, err, "Parse(%s): %s", name, tc.reason)
				return
			}
			require.Error(t, err, "Parse(%s): %s", name, tc.reason)
			var got []string
			for _, fe := range fieldErrors(t, err) {
				got = append(got, fe.Path+": "+fe.Message)
				if fe.Path == tc.path && strings.Contains(fe.Message, tc.msg) {
					assert.Equal(t, "config.yaml", fe.Pos.Filename)
					assert.Positive(t, fe.Pos.Line, "Parse(%s): line of %s", name, fe)
					return
				}
			}
			t.Errorf("Parse(%s): %s: want %s: %s, got %q", name, tc.reason, tc.path, tc.msg, got)
		})
	}
}
