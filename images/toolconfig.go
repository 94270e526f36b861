package images

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"
)

// ToolEnvPrefix prefixes the environment variables that override the keys
// of the `nublado images` config (NUBLADO_SOURCE, NUBLADO_PRUNE,
// NUBLADO_LOG_LEVEL, ...).
const ToolEnvPrefix = "NUBLADO_"

// ToolConfig is the configuration file of `nublado images` (tools §1.3):
// the registry, the prune policy, logging and the Docker credentials file.
//
// It is decoded in Go, strictly, rather than through a CUE definition next
// to the controller's #Config: the format is five keys, its env-first
// semantics (NUBLADO_<KEY> overriding the YAML, complex values as JSON) are
// a matter of the process environment that CUE does not see, and the tool
// has no use for defaults beyond the three below. Every key, at every
// level, may be written camelCase or snake_case; unknown keys, a key given
// in both spellings and values of the wrong type are errors.
type ToolConfig struct {
	// Docker is the repository of a "docker" source, nil otherwise.
	Docker *DockerConfig
	// GAR is the image of a "google" source, nil otherwise.
	GAR *GARConfig
	// Prune is the policy of `nublado images prune`: the tags it does not
	// keep are deleted. Nil when the config has none.
	Prune *FilterPolicy
	// LogLevel is DEBUG, INFO (the default), WARNING, ERROR or CRITICAL.
	LogLevel string
	// LogProfile is production (the default, JSON lines) or development.
	LogProfile string
	// DockerCredentialsPath is the Docker credentials file the config
	// names, "" when it names none.
	DockerCredentialsPath string
}

// toolFields are the top-level keys, snake_case.
var toolFields = []string{"source", "prune", "log_level", "log_profile", "docker_credentials_path"}

// LoadToolConfig reads the config file at path; environ (KEY=VALUE, as
// os.Environ returns) overrides its keys.
func LoadToolConfig(path string, environ []string) (*ToolConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading images config: %w", err)
	}
	cfg, err := ParseToolConfig(data, environ)
	if err != nil {
		return nil, fmt.Errorf("images config %q: %w", path, err)
	}
	return cfg, nil
}

// ParseToolConfig decodes a config. An environment variable
// NUBLADO_<SNAKE_KEY> (name in any case; empty means unset) replaces the
// key's YAML value: source and prune as JSON, the others as plain strings.
func ParseToolConfig(data []byte, environ []string) (*ToolConfig, error) {
	doc, err := decodeTree(data)
	if err != nil {
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, errors.New("the config is not a mapping")
	}
	fields, err := fieldsOf(top, toolFields)
	if err != nil {
		return nil, err
	}
	if err := overrideFromEnv(fields, environ); err != nil {
		return nil, err
	}
	return buildToolConfig(fields)
}

// overrideFromEnv replaces fields by their environment variables.
func overrideFromEnv(fields map[string]any, environ []string) error {
	want := make(map[string]string, len(toolFields))
	for _, f := range toolFields {
		want[strings.ToUpper(ToolEnvPrefix+f)] = f
	}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		f, ok := want[strings.ToUpper(k)]
		if !ok || v == "" {
			continue
		}
		if f != "source" && f != "prune" {
			fields[f] = v
			continue
		}
		val, err := decodeJSON([]byte(v))
		if err != nil {
			return fmt.Errorf("%s: not JSON: %w", k, err)
		}
		fields[f] = val
	}
	return nil
}

func buildToolConfig(fields map[string]any) (*ToolConfig, error) {
	cfg := &ToolConfig{LogLevel: "INFO", LogProfile: "production"}
	src, ok := fields["source"]
	if !ok || src == nil {
		return nil, errors.New("source: field required")
	}
	if err := cfg.setSource(src); err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	if p := fields["prune"]; p != nil {
		policy, err := parsePolicy(p)
		if err != nil {
			return nil, fmt.Errorf("prune: %w", err)
		}
		cfg.Prune = &policy
	}
	var err error
	if cfg.LogLevel, err = choice(fields, "log_level", cfg.LogLevel, true, "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"); err != nil {
		return nil, err
	}
	if cfg.LogProfile, err = choice(fields, "log_profile", cfg.LogProfile, false, "production", "development"); err != nil {
		return nil, err
	}
	if v := fields["docker_credentials_path"]; v != nil {
		if cfg.DockerCredentialsPath, err = stringValue(v); err != nil {
			return nil, fmt.Errorf("docker_credentials_path: %w", err)
		}
	}
	return cfg, nil
}

// choice reads an optional string field that must be one of values
// (compared case-insensitively when fold, and then returned upper case).
func choice(fields map[string]any, key, def string, fold bool, values ...string) (string, error) {
	v := fields[key]
	if v == nil {
		return def, nil
	}
	s, err := stringValue(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	if fold {
		s = strings.ToUpper(s)
	}
	for _, ok := range values {
		if s == ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("%s: %q is not one of %s", key, s, strings.Join(values, ", "))
}

// setSource reads a source: type docker (registry, repository) or google
// (location, project_id, repository, image).
func (cfg *ToolConfig) setSource(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return errors.New("not a mapping")
	}
	typ, err := requiredString(m, "type")
	if err != nil {
		return err
	}
	switch typ {
	case "docker":
		f, err := fieldsOf(m, []string{"type", "registry", "repository"})
		if err != nil {
			return err
		}
		d := DockerConfig{Registry: "docker.io"}
		if f["registry"] != nil {
			if d.Registry, err = stringValue(f["registry"]); err != nil {
				return fmt.Errorf("registry: %w", err)
			}
		}
		if d.Repository, err = requiredString(f, "repository"); err != nil {
			return err
		}
		cfg.Docker = &d
	case "google":
		f, err := fieldsOf(m, []string{"type", "location", "project_id", "repository", "image"})
		if err != nil {
			return err
		}
		var g GARConfig
		for dst, key := range map[*string]string{&g.Location: "location", &g.ProjectID: "project_id", &g.Repository: "repository", &g.Image: "image"} {
			if *dst, err = requiredString(f, key); err != nil {
				return err
			}
		}
		cfg.GAR = &g
	default:
		return fmt.Errorf("type: %q is not docker or google", typ)
	}
	return nil
}

func requiredString(f map[string]any, key string) (string, error) {
	if f[key] == nil {
		return "", fmt.Errorf("%s: field required", key)
	}
	s, err := stringValue(f[key])
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return s, nil
}

func stringValue(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", v)
	}
	return s, nil
}

// decodeTree reads YAML into generic values, numbers as json.Number.
func decodeTree(data []byte) (any, error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	return decodeJSON(j)
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// fieldsOf maps the keys of a mapping to the snake_case fields they spell
// (snake_case or camelCase). Other keys, and a field spelt both ways, are
// errors.
func fieldsOf(m map[string]any, fields []string) (map[string]any, error) {
	byKey := make(map[string]string, 2*len(fields))
	for _, f := range fields {
		byKey[f] = f
		byKey[camelCase(f)] = f
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make(map[string]any, len(m))
	for _, k := range keys {
		f, ok := byKey[k]
		if !ok {
			return nil, fmt.Errorf("unknown key %q", k)
		}
		if _, dup := out[f]; dup {
			return nil, fmt.Errorf("key %q given twice (as %q and %q)", f, f, camelCase(f))
		}
		out[f] = m[k]
	}
	return out, nil
}

// camelCase turns a snake_case name into camelCase.
func camelCase(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = string(unicode.ToUpper(rune(parts[i][0]))) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}
