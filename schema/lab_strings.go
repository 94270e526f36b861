package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
)

// GroupsAnnotation returns the nublado.lsst.io/user-groups annotation of a
// lab pod: the groups as Python's json.dumps writes a list of
// {"name": ..., "id": ...} dicts (", " and ": " separators, non-ASCII
// escaped). The bytes are pinned by decision D14.
func GroupsAnnotation(groups []UserGroup) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, g := range groups {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`{"name": `)
		writePythonString(&b, g.Name)
		fmt.Fprintf(&b, `, "id": %d}`, g.ID)
	}
	b.WriteByte(']')
	return b.String()
}

// shellSafe matches the strings Python's shlex.quote leaves unquoted.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// ShellJoin joins args into one POSIX shell command line as Python's
// shlex.join does (the lab's JUPYTERLAB_START_COMMAND).
func ShellJoin(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		switch {
		case a == "":
			quoted[i] = "''"
		case shellSafe.MatchString(a):
			quoted[i] = a
		default:
			quoted[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// HomeDirectory returns a user's home directory (spec §3.4): prefix (no
// trailing slash), then /{username} or, with schema "initialThenUsername",
// /{first letter}/{username}, then /{suffix} when suffix is not empty.
func HomeDirectory(prefix, schema, suffix, username string) string {
	home := strings.TrimRight(prefix, "/")
	if schema == "initialThenUsername" && username != "" {
		home += "/" + username[:1]
	}
	home += "/" + username
	if s := strings.Trim(suffix, "/"); s != "" {
		home += "/" + s
	}
	return home
}

// templateVar matches a Jinja variable reference such as {{uid}} or
// {{ gid }}.
var templateVar = regexp.MustCompile(`\{\{\s*(uid|gid)\s*\}\}`)

// NamespaceAnnotations renders lab.namespaceAnnotations: each value is a
// template in which {{uid}} and {{gid}} (Jinja syntax, optional spaces) are
// replaced by the user's ids. Other Jinja constructs are left as written.
func NamespaceAnnotations(templates map[string]string, uid, gid int64) map[string]string {
	if len(templates) == 0 {
		return nil
	}
	out := make(map[string]string, len(templates))
	for k, v := range templates {
		out[k] = templateVar.ReplaceAllStringFunc(v, func(m string) string {
			if strings.Contains(m, "uid") {
				return fmt.Sprint(uid)
			}
			return fmt.Sprint(gid)
		})
	}
	return out
}

// discovery is the part of a Repertoire discovery document that labs get
// (spec §6.3). Unknown keys are dropped on decoding.
type discovery struct {
	Datasets          map[string]discoveryDataset `json:"datasets"`
	InfluxDBDatabases map[string]influxDB         `json:"influxdb_databases"`
	Services          struct {
		Internal map[string]discoveryService `json:"internal"`
	} `json:"services"`
}

type discoveryDataset struct {
	ButlerConfig *string                     `json:"butler_config"`
	Services     map[string]discoveryService `json:"services"`
}

type discoveryService struct {
	URL      string                          `json:"url"`
	Versions map[string]struct{ URL string } `json:"versions"`
}

type influxDB struct {
	URL            *string `json:"url"`
	Database       *string `json:"database"`
	SchemaRegistry *string `json:"schema_registry"`
	CredentialsURL *string `json:"credentials_url"`
	Local          bool    `json:"local"`
}

// DiscoveryFile returns the content of a lab's discovery-v1-json file from a
// Repertoire discovery document: datasets (butler_config and services),
// influxdb_databases and services.internal, with URLs only (descriptions,
// documentation, OpenAPI and IVOA ids dropped), empty sections omitted,
// serialised as Python's json.dumps(sort_keys=True, indent=2). The bytes
// are pinned by decision D14.
func DiscoveryFile(doc []byte) (string, error) {
	var d discovery
	if err := json.Unmarshal(doc, &d); err != nil {
		return "", fmt.Errorf("decoding the discovery document: %w", err)
	}
	out := map[string]any{}
	if len(d.Datasets) > 0 {
		ds := map[string]any{}
		for name, dataset := range d.Datasets {
			entry := map[string]any{}
			if dataset.ButlerConfig != nil {
				entry["butler_config"] = *dataset.ButlerConfig
			}
			if len(dataset.Services) > 0 {
				entry["services"] = servicesSubset(dataset.Services)
			}
			ds[name] = entry
		}
		out["datasets"] = ds
	}
	if len(d.InfluxDBDatabases) > 0 {
		dbs := map[string]any{}
		for name, db := range d.InfluxDBDatabases {
			entry := map[string]any{"local": db.Local}
			for key, v := range map[string]*string{"url": db.URL, "database": db.Database,
				"schema_registry": db.SchemaRegistry, "credentials_url": db.CredentialsURL} {
				if v != nil {
					entry[key] = *v
				}
			}
			dbs[name] = entry
		}
		out["influxdb_databases"] = dbs
	}
	if len(d.Services.Internal) > 0 {
		out["services"] = map[string]any{"internal": servicesSubset(d.Services.Internal)}
	}
	var b bytes.Buffer
	writePythonJSON(&b, out, "")
	return b.String(), nil
}

func servicesSubset(services map[string]discoveryService) map[string]any {
	out := map[string]any{}
	for name, svc := range services {
		entry := map[string]any{"url": svc.URL}
		if len(svc.Versions) > 0 {
			versions := map[string]any{}
			for v, version := range svc.Versions {
				versions[v] = map[string]any{"url": version.URL}
			}
			entry["versions"] = versions
		}
		out[name] = entry
	}
	return out
}

// writePythonJSON writes v (maps, strings, bools) as Python's
// json.dumps(v, sort_keys=True, indent=2) does.
func writePythonJSON(b *bytes.Buffer, v any, indent string) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		inner := indent + "  "
		b.WriteString("{\n")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(inner)
			writePythonString(b, k)
			b.WriteString(": ")
			writePythonJSON(b, v[k], inner)
		}
		b.WriteString("\n" + indent + "}")
	case string:
		writePythonString(b, v)
	case bool:
		fmt.Fprint(b, v)
	default:
		panic(fmt.Sprintf("writePythonJSON: unexpected %T", v))
	}
}

// writePythonString writes s as a JSON string the way Python's json module
// does with ensure_ascii: \uXXXX for everything outside printable ASCII
// (UTF-16 surrogate pairs above the BMP), short escapes for \n \r \t \b \f.
func writePythonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff):
			fmt.Fprintf(b, `\u%04x`, r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// LabEnvParams are the values the lab's environment is computed from.
type LabEnvParams struct {
	// SpawnerEnv is the env of the spawner's create request.
	SpawnerEnv map[string]string
	// Debug and ResetUserEnv are the enable_debug and reset_user_env
	// options.
	Debug, ResetUserEnv bool
	Image               Image
	Size                ResolvedSize
	// ActivityIntervalSeconds is lab.activityInterval in whole seconds.
	ActivityIntervalSeconds int64
	// BaseURL is the instance's external URL.
	BaseURL             string
	JupyterlabConfigDir string
	LabStartCommand     []string
	RuntimeMountsDir    string
	// RepertoireBaseURL is the controller's REPERTOIRE_BASE_URL; empty when
	// unset.
	RepertoireBaseURL string
	// LabEnv is lab.env.
	LabEnv map[string]string
}

// LabEnv returns the data of a lab's env ConfigMap (spec §3.3): the
// spawner's env, DEBUG and RESET_USER_ENV, the image, size and runtime
// values, REPERTOIRE_BASE_URL, then lab.env, later ones overriding earlier.
func LabEnv(p LabEnvParams) map[string]string {
	env := make(map[string]string, len(p.SpawnerEnv)+len(p.LabEnv)+18)
	for k, v := range p.SpawnerEnv {
		env[k] = v
	}
	if p.Debug {
		env["DEBUG"] = "TRUE"
	}
	if p.ResetUserEnv {
		env["RESET_USER_ENV"] = "TRUE"
	}
	env["JUPYTER_IMAGE"] = p.Image.Reference
	env["JUPYTER_IMAGE_SPEC"] = p.Image.Reference
	env["IMAGE_DESCRIPTION"] = p.Image.Description
	env["IMAGE_DIGEST"] = p.Image.Digest
	env["CONTAINER_SIZE"] = p.Size.Label
	env["CPU_GUARANTEE"] = p.Size.Requests.CPU
	env["CPU_LIMIT"] = p.Size.Limits.CPU
	env["MEM_GUARANTEE"] = p.Size.Requests.Memory
	env["MEM_LIMIT"] = p.Size.Limits.Memory
	env["JUPYTERHUB_ACTIVITY_INTERVAL"] = fmt.Sprint(p.ActivityIntervalSeconds)
	env["EXTERNAL_INSTANCE_URL"] = p.BaseURL
	env["JUPYTERLAB_CONFIG_DIR"] = p.JupyterlabConfigDir
	env["JUPYTERLAB_START_COMMAND"] = ShellJoin(p.LabStartCommand)
	env["NUBLADO_RUNTIME_MOUNTS_DIR"] = p.RuntimeMountsDir
	if p.RepertoireBaseURL != "" {
		env["REPERTOIRE_BASE_URL"] = p.RepertoireBaseURL
	}
	for k, v := range p.LabEnv {
		env[k] = v
	}
	return env
}
