package schema

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema/units"
)

// Config is the validated, defaulted and normalised controller
// configuration: Nublado's config.yaml after [Load]. Every key the YAML may
// spell in camelCase or snake_case ends up in one field.
//
// JSON-marshalling a Config gives clean data in the canonical camelCase key
// names, which is what the render engine feeds to the CUE templates:
// durations ([time.Duration]) marshal as integer nanoseconds, memory as
// integer bytes and CPU ([units.CPU]) as a JSON number in Python's float
// notation (1.0, 0.25). Optional values that are unset are omitted. The
// Slack webhook is a secret and never marshalled.
//
// A Config is read-only after Load and safe for concurrent reads.
type Config struct {
	// BaseURL is the external URL of the Science Platform instance
	// (YAML key EXTERNAL_INSTANCE_URL or base_url, else the environment
	// variable EXTERNAL_INSTANCE_URL; default http://127.0.0.1:8080).
	BaseURL string `json:"baseUrl"`
	// LogLevel is DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO).
	LogLevel string `json:"logLevel"`
	// LogProfile is "production" (JSON lines, default) or "development".
	LogProfile string `json:"logProfile"`
	// MetadataPath is the directory of the pod-metadata files name,
	// namespace and uid (default /etc/podinfo).
	MetadataPath string `json:"metadataPath"`
	// Metrics is Safir's metrics configuration, accepted for compatibility;
	// nublado exports Prometheus metrics instead (decision D15).
	Metrics MetricsConfig `json:"metrics"`
	// Name is the application name used in metadata and Slack messages
	// (default Nublado).
	Name string `json:"name"`
	// PathPrefix is the URL prefix of the controller's routes (default
	// /nublado).
	PathPrefix string `json:"pathPrefix"`
	// SlackWebhook is the Slack incoming-webhook URL for alerts (YAML key
	// NUBLADO_SLACK_WEBHOOK or slack_webhook, else the environment variable
	// NUBLADO_SLACK_WEBHOOK); empty when alerts are off. Never marshalled.
	SlackWebhook string `json:"-"`
	// Fileserver configures per-user file servers (disabled by default).
	Fileserver FileserverConfig `json:"fileserver"`
	// FSAdmin configures the file-system administration pod.
	FSAdmin FSAdminConfig `json:"fsadmin"`
	// Images configures the image source, menu and prepuller.
	Images ImagesConfig `json:"images"`
	// DropdownMenu filters the tags offered in the spawner form's
	// dropdown; the zero value filters nothing.
	DropdownMenu images.FilterPolicy `json:"dropdownMenu"`
	// Lab configures user labs.
	Lab LabConfig `json:"lab"`
	// WatchReconnectTimeout is the longest lifetime of one Kubernetes watch
	// request (default 3m).
	WatchReconnectTimeout time.Duration `json:"watchReconnectTimeout"`

	// warnings are values the original accepts but Kubernetes or common
	// sense rejects (decisions D5, D19); see [Config.Warnings].
	warnings []Warning
}

// Warnings returns the problems found in a configuration that still loads:
// values Nublado accepts but a Kubernetes API server would reject (D19) and a
// configuration without lab sizes (D5). The controller logs them at start;
// `nublado validate --strict` treats them as errors. The slice is sorted by
// position and must not be modified.
func (c *Config) Warnings() []Warning { return c.warnings }

// MetricsConfig is Safir's metrics configuration. Unknown keys are ignored.
type MetricsConfig struct {
	// Enabled turns on event publication (default false; environment
	// variable METRICS_ENABLED when the YAML has no metrics section).
	Enabled bool `json:"enabled"`
	// Mock selects Safir's mock publisher (METRICS_MOCK).
	Mock bool `json:"mock,omitempty"`
	// Application is the application name of the events (YAML application
	// or appName; METRICS_APPLICATION).
	Application string `json:"application,omitempty"`
	// TopicPrefix is events.topicPrefix.
	TopicPrefix string `json:"topicPrefix,omitempty"`
	// RegistryURL is schemaManager.registryUrl.
	RegistryURL string `json:"registryUrl,omitempty"`
	// Suffix is schemaManager.suffix.
	Suffix string `json:"suffix,omitempty"`
}

// LabConfig is the lab section: how user labs are built.
type LabConfig struct {
	// ActivityInterval is how often the lab reports activity to JupyterHub
	// (env JUPYTERHUB_ACTIVITY_INTERVAL; default 1h).
	ActivityInterval time.Duration `json:"activityInterval"`
	// Application is the Argo CD application label value put on lab
	// objects; empty (omitted) when unset.
	Application string `json:"application,omitempty"`
	// Affinity of the lab pod; nil when unset.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// DefaultSize preselected in the lab form; one of Sizes, empty when
	// unset.
	DefaultSize string `json:"defaultSize,omitempty"`
	// DeleteTimeout bounds a whole lab deletion (default 1m).
	DeleteTimeout time.Duration `json:"deleteTimeout"`
	// EmptyDirSource is the medium of the /tmp emptyDir: EmptyDirMemory
	// (default) or EmptyDirDisk.
	EmptyDirSource string `json:"emptyDirSource"`
	// Env is added to every lab's environment. Keys never collide with the
	// variables Nublado sets itself.
	Env map[string]string `json:"env"`
	// ExtraAnnotations are added to the lab pod.
	ExtraAnnotations map[string]string `json:"extraAnnotations"`
	// Files maps an absolute path in the lab to the contents mounted there,
	// in the order of the configuration file (the lab pod mounts them in
	// that order).
	Files OrderedStrings `json:"files"`
	// JupyterlabConfigDir is the lab's JUPYTERLAB_CONFIG_DIR (default
	// /opt/lsst/software/jupyterlab).
	JupyterlabConfigDir string `json:"jupyterlabConfigDir"`
	// HomedirPrefix is the home directory prefix without trailing slash,
	// starting with "/" (default /home).
	HomedirPrefix string `json:"homedirPrefix"`
	// HomedirSchema is HomedirUsername (default) or
	// HomedirInitialThenUsername.
	HomedirSchema string `json:"homedirSchema"`
	// HomedirSuffix is appended to the home directory, without leading or
	// trailing slashes (default empty).
	HomedirSuffix string `json:"homedirSuffix"`
	// HomeVolumeName names the entry of Volumes that holds home
	// directories (default home).
	HomeVolumeName string `json:"homeVolumeName"`
	// InitContainers run before the lab container, in order.
	InitContainers []InitContainer `json:"initContainers"`
	// LabStartCommand is the lab container's command (default
	// ["/opt/lsst/software/jupyterlab/runlab.sh"]).
	LabStartCommand []string `json:"labStartCommand"`
	// NamespaceAnnotations are put on the lab namespace; values are
	// templates that may use {{uid}} and {{gid}}.
	NamespaceAnnotations map[string]string `json:"namespaceAnnotations"`
	// NamespacePrefix: a user's lab lives in namespace
	// {NamespacePrefix}-{username}. Required.
	NamespacePrefix string `json:"namespacePrefix"`
	// NodeSelector of the lab pod; also restricts prepulled nodes.
	NodeSelector map[string]string `json:"nodeSelector"`
	// NSS holds the base /etc/passwd and /etc/group contents.
	NSS NSSConfig `json:"nss"`
	// PullSecret names a Secret in the controller's namespace copied into
	// labs as image pull secret; empty when unset.
	PullSecret string `json:"pullSecret,omitempty"`
	// ReconcileInterval is the period of the lab reconcile (default 5m).
	ReconcileInterval time.Duration `json:"reconcileInterval"`
	// RuntimeMountsDir is where runtime information and secrets are
	// mounted in the lab (default /etc/nublado).
	RuntimeMountsDir string `json:"runtimeMountsDir"`
	// Secrets are copied from the controller's namespace into each lab.
	Secrets []LabSecret `json:"secrets"`
	// Sizes are the lab sizes offered, in order. Empty when the YAML has
	// none (decision D5: the config loads with a warning).
	Sizes []LabSize `json:"sizes"`
	// SpawnTimeout bounds a whole spawn (default 10m).
	SpawnTimeout time.Duration `json:"spawnTimeout"`
	// StandardInithome adds Nublado's standard init containers.
	StandardInithome bool `json:"standardInithome"`
	// Tolerations of the lab pod; also decide node eligibility for
	// prepulls.
	Tolerations []Toleration `json:"tolerations"`
	// Volumes available to lab mounts and init containers.
	Volumes []Volume `json:"volumes"`
	// VolumeMounts of the lab container; each names an entry of Volumes.
	VolumeMounts []VolumeMount `json:"volumeMounts"`
}

// Values of [LabConfig.EmptyDirSource].
const (
	EmptyDirMemory = "memory" // tmpfs
	EmptyDirDisk   = "disk"   // node disk
)

// Values of [LabConfig.HomedirSchema].
const (
	HomedirUsername            = "username"            // {prefix}/{username}{/suffix}
	HomedirInitialThenUsername = "initialThenUsername" // {prefix}/{u[0]}/{username}{/suffix}
)

// NSSConfig is lab.nss: the base contents of the lab's /etc/passwd and
// /etc/group, to which the user's entries are appended.
type NSSConfig struct {
	// BasePasswd defaults to "root:x:0:0:root:/root:/bin/bash\n".
	BasePasswd string `json:"basePasswd"`
	// BaseGroup defaults to "root:x:0:\n".
	BaseGroup string `json:"baseGroup"`
}

// LabSecret is one lab.secrets entry: a key of a Secret in the controller's
// namespace copied into the lab's secret.
type LabSecret struct {
	// SecretName names the source Secret.
	SecretName string `json:"secretName"`
	// SecretKey is the key copied; unique across Secrets, never "token".
	SecretKey string `json:"secretKey"`
	// Env, when set, also exposes the value as this environment variable.
	Env string `json:"env,omitempty"`
	// Path, when set, also mounts the value at this path.
	Path string `json:"path,omitempty"`
}

// LabSize is one lab.sizes entry.
type LabSize struct {
	// Size is the name: fine, diminutive, tiny, small, medium, large, huge,
	// gargantuan, colossal or custom.
	Size string `json:"size"`
	// Resources are the size's limits and requests.
	Resources Resources `json:"resources"`
}

// Resources are the limits and requests of a container; requests never
// exceed limits.
type Resources struct {
	// Limits are the maximum CPU and memory.
	Limits ResourceValues `json:"limits"`
	// Requests are the guaranteed CPU and memory.
	Requests ResourceValues `json:"requests"`
}

// ResourceValues is a CPU and memory amount.
type ResourceValues struct {
	// CPU in cores.
	CPU units.CPU `json:"cpu"`
	// Memory in bytes.
	Memory int64 `json:"memory"`
}

// InitContainer is one lab.initContainers entry.
type InitContainer struct {
	// Name of the container.
	Name string `json:"name"`
	// Image of the container.
	Image ContainerImage `json:"image"`
	// Command overrides the image's entrypoint; nil when unset.
	Command []string `json:"command,omitempty"`
	// Privileged runs the container privileged as root.
	Privileged bool `json:"privileged"`
	// VolumeMounts each name an entry of lab.volumes.
	VolumeMounts []VolumeMount `json:"volumeMounts"`
}

// ContainerImage is a repository, tag and pull policy.
type ContainerImage struct {
	// Repository, e.g. ghcr.io/lsst-sqre/nublado.
	Repository string `json:"repository"`
	// PullPolicy is Always, IfNotPresent (default) or Never.
	PullPolicy string `json:"pullPolicy"`
	// Tag of the image.
	Tag string `json:"tag"`
}

// Reference returns "repository:tag".
func (i ContainerImage) Reference() string { return i.Repository + ":" + i.Tag }

// Volume is a named volume that lab mounts refer to.
type Volume struct {
	// Name is a DNS-1123 label.
	Name string `json:"name"`
	// Source says where the volume comes from.
	Source VolumeSource `json:"source"`
}

// Values of [VolumeSource.Type].
const (
	VolumeHostPath = "hostPath"
	VolumeNFS      = "nfs"
	VolumePVC      = "persistentVolumeClaim"
)

// VolumeSource is a discriminated union on Type; only the fields of that
// type are set (the others are zero and omitted from JSON).
type VolumeSource struct {
	// Type is VolumeHostPath, VolumeNFS or VolumePVC.
	Type string `json:"type"`
	// Path on the node (hostPath), absolute.
	Path string `json:"path,omitempty"`
	// Server is the NFS server (nfs).
	Server string `json:"server,omitempty"`
	// ServerPath is the exported path on the server (nfs), absolute.
	ServerPath string `json:"serverPath,omitempty"`
	// ReadOnly mounts the volume read-only (nfs, persistentVolumeClaim;
	// default false).
	ReadOnly bool `json:"readOnly,omitempty"`
	// AccessModes of the claim: ReadOnlyMany and/or ReadWriteMany
	// (persistentVolumeClaim).
	AccessModes []string `json:"accessModes,omitempty"`
	// StorageClassName of the claim (persistentVolumeClaim).
	StorageClassName string `json:"storageClassName,omitempty"`
	// Resources of the claim (persistentVolumeClaim); nil otherwise.
	Resources *PVCResources `json:"resources,omitempty"`
}

// PVCResources are the resources of a persistent volume claim. Quantities
// are kept as written (e.g. "1Gi"); see [units.ParseQuantity].
type PVCResources struct {
	// Requests maps a resource name (storage) to a quantity.
	Requests map[string]string `json:"requests"`
}

// VolumeMount mounts an entry of lab.volumes into a container.
type VolumeMount struct {
	// ContainerPath is the absolute mount path.
	ContainerPath string `json:"containerPath"`
	// SubPath of the volume to mount; empty for the whole volume.
	SubPath string `json:"subPath,omitempty"`
	// ReadOnly mounts read-only (default false).
	ReadOnly bool `json:"readOnly"`
	// VolumeName names the volume.
	VolumeName string `json:"volumeName"`
}

// Toleration is a Kubernetes toleration as Nublado serialises it: unset
// fields are omitted but an explicit empty key or value is kept (`key: ""`
// tolerates every taint with operator Exists).
type Toleration struct {
	// Effect is NoSchedule, PreferNoSchedule, NoExecute, or empty for all.
	Effect string `json:"effect,omitempty"`
	// Key of the taint; nil when unset.
	Key *string `json:"key,omitempty"`
	// Operator is Equal (default) or Exists.
	Operator string `json:"operator"`
	// TolerationSeconds bounds how long a NoExecute taint is tolerated;
	// nil when unset.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
	// Value of the taint; nil when unset.
	Value *string `json:"value,omitempty"`
}

// ImagesConfig is the images section: where lab images come from and which
// are shown and prepulled.
type ImagesConfig struct {
	// Source is the registry the images are read from.
	Source ImageSource `json:"source"`
	// RefreshInterval is how often the registry is read (default 5m).
	RefreshInterval time.Duration `json:"refreshInterval"`
	// PrepullTimeout bounds one prepull pod (default 10m).
	PrepullTimeout time.Duration `json:"prepullTimeout"`
	// RecommendedTag is the tag of the recommended image (default
	// recommended).
	RecommendedTag string `json:"recommendedTag"`
	// NumReleases is how many release images are prepulled (default 1).
	NumReleases int `json:"numReleases"`
	// NumWeeklies is how many weekly images are prepulled (default 2).
	NumWeeklies int `json:"numWeeklies"`
	// NumDailies is how many daily images are prepulled (default 3).
	NumDailies int `json:"numDailies"`
	// Cycle restricts images to this SAL cycle; nil when unset.
	Cycle *int `json:"cycle,omitempty"`
	// Pin lists tags that are always prepulled.
	Pin []string `json:"pin"`
	// AliasTags lists tags that are aliases of other tags.
	AliasTags []string `json:"aliasTags"`
	// DockerCredentialsPath is the Docker credentials file (default
	// /etc/secrets/.dockerconfigjson); empty when explicitly null.
	DockerCredentialsPath string `json:"dockerCredentialsPath,omitempty"`
}

// Values of [ImageSource.Type].
const (
	SourceDocker = "docker" // a Docker (OCI distribution) registry
	SourceGoogle = "google" // Google Artifact Registry
)

// ImageSource is a discriminated union on Type: Registry and Repository for
// docker; Location, ProjectID, Repository and Image for google.
type ImageSource struct {
	// Type is SourceDocker or SourceGoogle.
	Type string `json:"type"`
	// Registry host (docker; default docker.io).
	Registry string `json:"registry,omitempty"`
	// Repository: the image repository (docker) or the Artifact Registry
	// repository (google).
	Repository string `json:"repository"`
	// Location of the Artifact Registry repository, e.g. us-central1
	// (google).
	Location string `json:"location,omitempty"`
	// ProjectID of the Google Cloud project (google).
	ProjectID string `json:"projectId,omitempty"`
	// Image name within the Artifact Registry repository (google).
	Image string `json:"image,omitempty"`
}

// Host returns the registry host: Registry for docker,
// {location}-docker.pkg.dev for google.
func (s ImageSource) Host() string {
	if s.Type == SourceGoogle {
		return s.Location + "-docker.pkg.dev"
	}
	return s.Registry
}

// Path returns the Docker repository path within Host: Repository for
// docker, {projectId}/{repository}/{image} for google.
func (s ImageSource) Path() string {
	if s.Type == SourceGoogle {
		return s.ProjectID + "/" + s.Repository + "/" + s.Image
	}
	return s.Repository
}

// GARParent returns the Artifact Registry parent resource name
// projects/{projectId}/locations/{location}/repositories/{repository}.
func (s ImageSource) GARParent() string {
	return "projects/" + s.ProjectID + "/locations/" + s.Location + "/repositories/" + s.Repository
}

// FileserverConfig is the fileserver section. When Enabled is false only
// PathPrefix is meaningful and the other fields are zero.
type FileserverConfig struct {
	// Enabled turns on user file servers (default false).
	Enabled bool `json:"enabled"`
	// PathPrefix is the URL prefix of file servers (default /files).
	PathPrefix string `json:"pathPrefix"`
	// Affinity of file-server pods; nil when unset.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// Application is the Argo CD application label value; empty when
	// unset.
	Application string `json:"application,omitempty"`
	// CreationTimeout bounds file-server creation (default 2m).
	CreationTimeout time.Duration `json:"creationTimeout,omitempty"`
	// DeleteTimeout bounds file-server deletion (default 1m).
	DeleteTimeout time.Duration `json:"deleteTimeout,omitempty"`
	// ExtraAnnotations are added to file-server pods.
	ExtraAnnotations map[string]string `json:"extraAnnotations,omitempty"`
	// IdleTimeout shuts down an idle file server (default 1h).
	IdleTimeout time.Duration `json:"idleTimeout,omitempty"`
	// Namespace of the file servers; required when enabled and must exist.
	Namespace string `json:"namespace,omitempty"`
	// NodeSelector of file-server pods.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// ReconcileInterval is the period of the file-server reconcile
	// (default 60m).
	ReconcileInterval time.Duration `json:"reconcileInterval,omitempty"`
	// Resources of the file-server container; nil when unset.
	Resources *Resources `json:"resources,omitempty"`
	// Tolerations of file-server pods.
	Tolerations []Toleration `json:"tolerations,omitempty"`
	// VolumeMounts served; each names an entry of lab.volumes.
	VolumeMounts []VolumeMount `json:"volumeMounts,omitempty"`
}

// FSAdminConfig is the fsadmin section: the pod that mounts every lab file
// system for administrators.
type FSAdminConfig struct {
	// Affinity of the pod; nil when unset.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// ExtraAnnotations are added to the pod.
	ExtraAnnotations map[string]string `json:"extraAnnotations"`
	// ExtraVolumes are volumes mounted besides the lab ones.
	ExtraVolumes []Volume `json:"extraVolumes"`
	// ExtraVolumeMounts mount ExtraVolumes (names are not cross-checked).
	ExtraVolumeMounts []VolumeMount `json:"extraVolumeMounts"`
	// MountPrefix is prepended to every mount path; empty when unset.
	MountPrefix string `json:"mountPrefix,omitempty"`
	// NodeSelector of the pod.
	NodeSelector map[string]string `json:"nodeSelector"`
	// PodName is the pod's name (default fsadmin).
	PodName string `json:"podName"`
	// Resources of the container; nil when unset.
	Resources *Resources `json:"resources,omitempty"`
	// Timeout bounds pod start and stop (default 2m).
	Timeout time.Duration `json:"timeout"`
	// Tolerations of the pod.
	Tolerations []Toleration `json:"tolerations"`
}
