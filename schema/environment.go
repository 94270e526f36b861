package schema

import (
	"strconv"
	"strings"
)

// DefaultBaseURL is the base URL when neither the YAML nor the environment
// sets one.
const DefaultBaseURL = "http://127.0.0.1:8080"

// applyEnvironment fills the fields that Nublado reads from the environment
// when the YAML does not set them (§0, §2.1): the YAML always wins.
func applyEnvironment(cfg *Config, tree map[string]any, lookup func(string) (string, bool)) {
	cfg.BaseURL = firstString(tree, "EXTERNAL_INSTANCE_URL", "base_url")
	if cfg.BaseURL == "" {
		cfg.BaseURL = envOr(lookup, "EXTERNAL_INSTANCE_URL", DefaultBaseURL)
	}
	_, set1 := tree["NUBLADO_SLACK_WEBHOOK"]
	_, set2 := tree["slack_webhook"]
	cfg.SlackWebhook = firstString(tree, "NUBLADO_SLACK_WEBHOOK", "slack_webhook")
	if !set1 && !set2 {
		cfg.SlackWebhook = envOr(lookup, "NUBLADO_SLACK_WEBHOOK", "")
	}
	if _, ok := tree["metrics"]; !ok {
		cfg.Metrics.Enabled = envBool(lookup, "METRICS_ENABLED")
		cfg.Metrics.Mock = envBool(lookup, "METRICS_MOCK")
		cfg.Metrics.Application = envOr(lookup, "METRICS_APPLICATION", "")
	}
}

// normalise applies the value normalisations of Nublado's validators.
func normalise(cfg *Config) {
	cfg.Lab.HomedirPrefix = strings.TrimRight(cfg.Lab.HomedirPrefix, "/")
	cfg.Lab.HomedirSuffix = strings.Trim(cfg.Lab.HomedirSuffix, "/")
}

// envOr returns the environment variable name, or def when it is unset or
// empty.
func envOr(lookup func(string) (string, bool), name, def string) string {
	if v, ok := lookup(name); ok && v != "" {
		return v
	}
	return def
}

// envBool reads a boolean environment variable the way pydantic does
// (true/false, 1/0, yes/no, on/off, any case); anything else is false.
func envBool(lookup func(string) (string, bool), name string) bool {
	v, _ := lookup(name)
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on", "t", "y":
		return true
	}
	b, _ := strconv.ParseBool(v)
	return b
}

// Defaults of the controller image (the image of the standard init
// containers, file servers and fsadmin) when the environment does not set
// it.
const (
	DefaultControllerRepository = "ghcr.io/lsst-sqre/nublado"
	DefaultControllerTag        = "11.0.0"
)

// Environment is what the controller reads from its environment besides the
// configuration file (§0).
type Environment struct {
	// ControllerImage is the controller's own image, used for the
	// nublado-std-* init containers, file servers and fsadmin
	// (NUBLADO_CONTROLLER_REPOSITORY, NUBLADO_CONTROLLER_TAG and
	// NUBLADO_CONTROLLER_PULL_POLICY).
	ControllerImage ContainerImage `json:"controllerImage"`
	// RepertoireBaseURL is the service-discovery base URL
	// (REPERTOIRE_BASE_URL); empty when unset.
	RepertoireBaseURL string `json:"repertoireBaseUrl,omitempty"`
}

// DefaultEnvironment is the environment when none of its variables is
// set.
func DefaultEnvironment() Environment {
	env, _ := ReadEnvironment(func(string) (string, bool) { return "", false })
	return env
}

// ReadEnvironment reads the controller's environment through lookup
// (usually [os.LookupEnv]). The warnings name the variables that were unset
// and defaulted, for the controller to log. The pull policy is
// case-insensitive: always → Always, never → Never, anything else
// IfNotPresent.
func ReadEnvironment(lookup func(string) (string, bool)) (Environment, []Warning) {
	var env Environment
	var warns []Warning
	get := func(name, def string) string {
		if v, ok := lookup(name); ok && v != "" {
			return v
		}
		warns = append(warns, Warning{Path: name, Message: name + " not set, using " + def})
		return def
	}
	env.ControllerImage.Repository = get("NUBLADO_CONTROLLER_REPOSITORY", DefaultControllerRepository)
	env.ControllerImage.Tag = get("NUBLADO_CONTROLLER_TAG", DefaultControllerTag)
	policy, _ := lookup("NUBLADO_CONTROLLER_PULL_POLICY")
	switch strings.ToLower(strings.TrimSpace(policy)) {
	case "always":
		env.ControllerImage.PullPolicy = "Always"
	case "never":
		env.ControllerImage.PullPolicy = "Never"
	default:
		env.ControllerImage.PullPolicy = "IfNotPresent"
	}
	env.RepertoireBaseURL, _ = lookup("REPERTOIRE_BASE_URL")
	return env, warns
}
