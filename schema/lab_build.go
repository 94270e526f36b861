package schema

import (
	"fmt"
	"strconv"
	"time"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/schema/units"
)

// LabRequest is everything a lab render needs besides the configuration and
// the controller's environment: the validated create request, the resolved
// image and what the controller read from Kubernetes and Repertoire.
type LabRequest struct {
	// User is the Gafaelfawr user-info of the lab's owner.
	User nublado.User
	// Token is the delegated token; it becomes the lab Secret's token key.
	// It is never logged and never part of an error.
	Token string
	// Size is the requested size; it must be one of lab.sizes.
	Size nublado.LabSize
	// EnableDebug and ResetUserEnv are the request's options.
	EnableDebug, ResetUserEnv bool
	// Env is the spawner's environment; it must set
	// JUPYTERHUB_SERVICE_PREFIX.
	Env map[string]string
	// Image is the resolved image.
	Image LabImage
	// Namespace is the controller's namespace, where the source Secrets
	// live (used in error messages).
	Namespace string
	// Secrets are the Secrets of the controller's namespace that
	// lab.secrets names, by name, with their data as Kubernetes returns it
	// (decoded bytes). Other Secrets may be present and are ignored.
	Secrets map[string]map[string][]byte
	// PullSecret is the type and data of the Secret lab.pullSecret names;
	// nil when that Secret does not exist (an error when lab.pullSecret is
	// set) or lab.pullSecret is unset.
	PullSecret *SecretCopy
	// Discovery is the Repertoire discovery document; nil stands for an
	// empty one ({}).
	Discovery []byte
}

// LabImage is a resolved lab image.
type LabImage struct {
	// Reference is registry/repository:tag, without digest.
	Reference string
	// Digest is sha256:...; empty when unknown, in which case the lab runs
	// Reference as is.
	Digest string
	// DisplayName is the image's human-readable name, e.g.
	// "Daily 2077_10_23".
	DisplayName string
}

// NewLabImage returns the LabImage of an image resolved by
// [images.Catalog.Resolve].
func NewLabImage(img *images.Image) LabImage {
	return LabImage{Reference: img.Reference(), Digest: img.Digest, DisplayName: img.DisplayName}
}

// WithDigest returns Reference@Digest, or Reference when the digest is
// unknown.
func (i LabImage) WithDigest() string {
	if i.Digest == "" {
		return i.Reference
	}
	return i.Reference + "@" + i.Digest
}

// servicePrefixVar is the spawner variable every lab request must set.
const servicePrefixVar = "JUPYTERHUB_SERVICE_PREFIX"

// LabInput checks req (see [Config.CheckLabRequest]) and builds the complete
// input of the lab template: quantities and CPU strings, the size label, the
// merged environment (§3.3), the home directory, the byte-exact annotation
// and discovery strings, the Secret data (§3.2 step 6) and the pull secret.
// The result depends only on its arguments.
//
// Errors are [*nublado.Error] values: those of [Config.CheckLabRequest];
// value_error (422, loc body.env) "Value error, JUPYTERHUB_SERVICE_PREFIX
// must be set"; missing_secret (500) "Secret {ns}/{name} does not exist"
// or "No key {k} in secret {ns}/{name}" for Kubernetes data that lab.secrets
// or lab.pullSecret names but req lacks. A discovery document that is not
// JSON is a plain wrapped error.
func (c *Config) LabInput(env Environment, req LabRequest) (*LabInput, error) {
	size, err := c.CheckLabRequest(req.User, req.Size)
	if err != nil {
		return nil, err
	}
	if _, ok := req.Env[servicePrefixVar]; !ok {
		return nil, &nublado.Error{Code: nublado.CodeValueError, Loc: []string{"body", "env"},
			Message: "Value error, " + servicePrefixVar + " must be set"}
	}
	secretData, err := c.labSecretData(req)
	if err != nil {
		return nil, err
	}
	pull, err := c.labPullSecret(req)
	if err != nil {
		return nil, err
	}
	discovery := req.Discovery
	if discovery == nil {
		discovery = []byte("{}")
	}
	discoveryFile, err := DiscoveryFile(discovery)
	if err != nil {
		return nil, err
	}
	in := &LabInput{
		User:                 labUser(req.User),
		Namespace:            c.LabNamespace(req.User.Username),
		Image:                Image{Reference: req.Image.WithDigest(), Digest: req.Image.Digest, Description: req.Image.DisplayName},
		Size:                 resolveSize(*size),
		Quota:                labQuota(req.User),
		DiscoveryFile:        discoveryFile,
		SecretData:           secretData,
		PullSecret:           pull,
		ControllerImage:      ContainerImageRef{Reference: env.ControllerImage.Reference(), PullPolicy: env.ControllerImage.PullPolicy},
		NamespaceAnnotations: NamespaceAnnotations(c.Lab.NamespaceAnnotations, orZero(req.User.UID), orZero(req.User.GID)),
	}
	in.HomeDirectory = HomeDirectory(c.Lab.HomedirPrefix, c.Lab.HomedirSchema, c.Lab.HomedirSuffix, in.User.Username)
	in.GroupsAnnotation = GroupsAnnotation(in.User.Groups)
	in.Env = c.labEnv(env, req, in)
	return in, nil
}

// labEnv returns the data of the env ConfigMap (§3.3).
func (c *Config) labEnv(env Environment, req LabRequest, in *LabInput) map[string]string {
	return LabEnv(LabEnvParams{
		SpawnerEnv: req.Env, Debug: req.EnableDebug, ResetUserEnv: req.ResetUserEnv,
		Image: in.Image, Size: in.Size,
		ActivityIntervalSeconds: int64(c.Lab.ActivityInterval / time.Second),
		BaseURL:                 c.BaseURL,
		JupyterlabConfigDir:     c.Lab.JupyterlabConfigDir,
		LabStartCommand:         c.Lab.LabStartCommand,
		RuntimeMountsDir:        c.Lab.RuntimeMountsDir,
		RepertoireBaseURL:       env.RepertoireBaseURL,
		LabEnv:                  c.Lab.Env,
	})
}

// LabNamespace returns the namespace of a user's lab,
// {lab.namespacePrefix}-{username}.
func (c *Config) LabNamespace(username string) string {
	return c.Lab.NamespacePrefix + "-" + username
}

// orZero returns *p, or 0 for nil.
func orZero(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// labUser converts a checked Gafaelfawr user.
func labUser(u nublado.User) User {
	groups := make([]UserGroup, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = UserGroup{Name: g.Name, ID: g.ID}
	}
	return User{Username: u.Username, Name: u.Name, UID: orZero(u.UID), GID: orZero(u.GID), Groups: groups}
}

// resolveSize turns a configured size into strings: CPU in Python's float
// notation, memory in bytes, /tmp a quarter of the memory limit.
func resolveSize(s LabSize) ResolvedSize {
	q := func(v ResourceValues) Quantities {
		return Quantities{CPU: v.CPU.String(), Memory: strconv.FormatInt(v.Memory, 10)}
	}
	return ResolvedSize{
		Name:         s.Size,
		Label:        s.Label(),
		Limits:       q(s.Resources.Limits),
		Requests:     q(s.Resources.Requests),
		TmpSizeLimit: strconv.FormatInt(s.Resources.Limits.Memory/4, 10),
	}
}

// labQuota returns the ResourceQuota limits of a user with a notebook
// quota, nil otherwise.
func labQuota(u nublado.User) *Quantities {
	if u.Quota == nil || u.Quota.Notebook == nil {
		return nil
	}
	nb := u.Quota.Notebook
	return &Quantities{CPU: units.FormatPythonFloat(nb.CPU), Memory: strconv.FormatInt(nb.MemoryBytes(), 10)}
}

// missingSecret is the error of a Secret or key that lab.secrets or
// lab.pullSecret names but the controller's namespace lacks.
func missingSecret(format string, args ...any) error {
	return &nublado.Error{Code: nublado.CodeMissingSecret, Message: fmt.Sprintf(format, args...)}
}
