package purger

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// Defaults of the purger's configuration.
const (
	DefaultConfigFile = "/etc/purger/config.yaml"
	DefaultPolicyFile = "/etc/purger/policy.yaml"
	// ConfigFileEnv names the config file when -c/--config-file is not given.
	ConfigFileEnv = "RSP_SCRATCHPURGER_CONFIG_FILE"
	// EnvPrefix prefixes the environment variables that override config keys.
	EnvPrefix = "NUBLADO_"
	// AlertHookEnv is the Slack webhook used when the config cannot be read.
	AlertHookEnv = "NUBLADO_ALERT_HOOK"
)

// Log profiles and levels the config accepts.
const (
	ProfileProduction  = "production"
	ProfileDevelopment = "development"
)

// configFields are the config keys in snake_case (each also accepted in
// camelCase, and overridden by NUBLADO_<KEY_UPPER>).
var configFields = []string{
	"policy_file", "debug", "dry_run", "future_duration",
	"log_profile", "log_level", "add_timestamp", "alert_hook",
}

// Config is the purger's application configuration (config.yaml).
type Config struct {
	// PolicyFile is the policy read at every plan.
	PolicyFile string
	// Debug switches logging to level DEBUG and the development profile.
	Debug bool
	// DryRun makes execute report instead of deleting.
	DryRun bool
	// FutureDuration plans as if now were this much later; zero is unset.
	// When set, execute reports instead of deleting.
	FutureDuration time.Duration
	// LogProfile is production (JSON lines) or development (text).
	LogProfile string
	// LogLevel is DEBUG, INFO, WARNING, ERROR or CRITICAL.
	LogLevel string
	// AddTimestamp adds a timestamp to every log line.
	AddTimestamp bool
	// AlertHook is a Slack incoming-webhook URL for failures (secret).
	AlertHook string
}

// DefaultConfig returns the configuration of an empty config file.
func DefaultConfig() Config {
	return Config{PolicyFile: DefaultPolicyFile, LogProfile: ProfileProduction, LogLevel: "INFO"}
}

// ReadConfig reads the config file at path; environ (KEY=VALUE strings, as
// os.Environ returns) overrides its keys. A missing file is an error wrapping
// fs.ErrNotExist.
func ReadConfig(path string, environ []string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("reading purger config: %w", err)
	}
	cfg, err := ParseConfig(data, environ)
	if err != nil {
		return Config{}, fmt.Errorf("purger config %q: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads config.yaml: each key may be written camelCase or
// snake_case, unknown keys are errors, and an environment variable
// NUBLADO_<SNAKE_KEY> (any case; empty means unset) overrides the YAML value.
func ParseConfig(data []byte, environ []string) (Config, error) {
	doc, err := decodeYAML(data)
	if err != nil {
		return Config{}, fmt.Errorf("parsing YAML: %w", err)
	}
	m, ok := doc.(map[string]any)
	if doc != nil && !ok {
		return Config{}, fmt.Errorf("want a mapping at the top level, not %T", doc)
	}
	values, err := fieldsOf(m, configFields, true)
	if err != nil {
		return Config{}, err
	}
	for f, v := range envSettings(environ, EnvPrefix, configFields) {
		values[f] = v
	}
	cfg := DefaultConfig()
	for _, f := range configFields {
		v, ok := values[f]
		if !ok {
			continue
		}
		if err := cfg.set(f, v); err != nil {
			return Config{}, fmt.Errorf("%s: %w", f, err)
		}
	}
	return cfg, nil
}

// set assigns one field from its YAML or environment value.
func (c *Config) set(field string, v any) error {
	var err error
	switch field {
	case "policy_file":
		c.PolicyFile, err = stringValue(v)
	case "debug":
		c.Debug, err = parseBool(v)
	case "dry_run":
		c.DryRun, err = parseBool(v)
	case "add_timestamp":
		c.AddTimestamp, err = parseBool(v)
	case "future_duration":
		c.FutureDuration, err = ParseDuration(v)
	case "alert_hook":
		if v != nil {
			c.AlertHook, err = stringValue(v)
		}
	case "log_profile":
		c.LogProfile, err = stringValue(v)
		if err == nil && c.LogProfile != ProfileProduction && c.LogProfile != ProfileDevelopment {
			err = fmt.Errorf("%q is not %s or %s", c.LogProfile, ProfileProduction, ProfileDevelopment)
		}
	case "log_level":
		c.LogLevel, err = logLevel(v)
	}
	return err
}

func stringValue(v any) (string, error) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("want a non-empty string, not %v", v)
	}
	return s, nil
}

func logLevel(v any) (string, error) {
	s, err := stringValue(v)
	if err != nil {
		return "", err
	}
	switch l := strings.ToUpper(s); l {
	case "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
		return l, nil
	}
	return "", fmt.Errorf("%q is not DEBUG, INFO, WARNING, ERROR or CRITICAL", s)
}

// LogFields is the config as the "Purger initialized" log line shows it:
// snake_case keys, durations in float seconds, the alert hook masked.
func (c Config) LogFields() map[string]any {
	fields := map[string]any{
		"policy_file":     c.PolicyFile,
		"debug":           c.Debug,
		"dry_run":         c.DryRun,
		"future_duration": nil,
		"log_profile":     c.LogProfile,
		"log_level":       c.LogLevel,
		"add_timestamp":   c.AddTimestamp,
		"alert_hook":      nil,
	}
	if c.FutureDuration > 0 {
		fields["future_duration"] = c.FutureDuration.Seconds()
	}
	if c.AlertHook != "" {
		fields["alert_hook"] = "**********"
	}
	return fields
}
