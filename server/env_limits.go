package server

import (
	"fmt"
	"regexp"
)

// Limits of the env object of a create body. The spawner's environment
// becomes the lab's {u}-nb-env ConfigMap and a map of the render input,
// whose keys the CUE runtime interns for the life of the process, so its
// size is bounded here, before anything else sees it. JupyterHub sends
// about twenty short variables.
const (
	// MaxEnvKeys is the largest number of env variables accepted.
	MaxEnvKeys = 256
	// MaxEnvKeyBytes is the longest env variable name accepted: the
	// Kubernetes limit of a ConfigMap key.
	MaxEnvKeyBytes = 253
	// MaxEnvValueBytes is the longest env value accepted (64 KiB).
	MaxEnvValueBytes = 64 << 10
)

// envKeyPattern is what Kubernetes accepts as a ConfigMap key, hence as
// the name of a variable of the env ConfigMap ("." and ".." excepted).
const envKeyPattern = `^[-._a-zA-Z0-9]+$`

var envKeyRegexp = regexp.MustCompile(envKeyPattern)

// checkEnvSize is pydantic's error for a dictionary with more than
// MaxEnvKeys items, or nil.
func checkEnvSize(env *object) *FieldError {
	n := len(env.keys)
	if n <= MaxEnvKeys {
		return nil
	}
	return &FieldError{
		Type: "too_long", Loc: loc("body", "env"),
		Msg:   fmt.Sprintf("Dictionary should have at most %d items after validation, not %d", MaxEnvKeys, n),
		Input: env,
		Ctx:   map[string]any{"field_type": "Dictionary", "max_length": MaxEnvKeys, "actual_length": n},
	}
}

// checkEnvKey returns the errors of one env variable name, located as
// pydantic locates a dictionary key: [..., key, "[key]"].
func checkEnvKey(key string) []FieldError {
	at := loc("body", "env", key, "[key]")
	switch {
	case len(key) > MaxEnvKeyBytes:
		return []FieldError{stringTooLong(key, MaxEnvKeyBytes, at...)}
	case !envKeyRegexp.MatchString(key):
		return []FieldError{{
			Type: "string_pattern_mismatch", Loc: at,
			Msg:   "String should match pattern '" + envKeyPattern + "'",
			Input: key, Ctx: map[string]any{"pattern": envKeyPattern},
		}}
	case key == "." || key == "..":
		return []FieldError{valueError(key, key+" is not a valid environment variable name", at...)}
	}
	return nil
}

// checkEnvValue returns the error of an env value longer than
// MaxEnvValueBytes, or nil.
func checkEnvValue(key, value string) *FieldError {
	if len(value) <= MaxEnvValueBytes {
		return nil
	}
	e := stringTooLong(value, MaxEnvValueBytes, "body", "env", key)
	return &e
}

// stringTooLong is pydantic's string_too_long, with the length counted in
// bytes.
func stringTooLong(input string, max int, parts ...any) FieldError {
	return FieldError{
		Type: "string_too_long", Loc: parts,
		Msg:   fmt.Sprintf("String should have at most %d bytes", max),
		Input: input, Ctx: map[string]any{"max_length": max},
	}
}
