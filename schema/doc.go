// Package schema holds nublado's input schemas and loads the controller
// configuration.
//
// The CUE files of this directory (package schema, module path
// github.com/nublado-go/nublado/schema) define #Config, the controller
// configuration in Nublado's YAML format: every key, default and validation
// rule, with Nublado's error messages. The same definition serves three
// users: [Load] at controller start, `nublado validate`, and
//
//	cue vet -c=false -d '#Config' ./schema config.yaml
//
// in CI. [Load] and [Parse] read the YAML, apply the environment overrides
// (EXTERNAL_INSTANCE_URL, NUBLADO_SLACK_WEBHOOK, METRICS_*), validate it
// through the embedded #Config, and return a typed [Config] with normalised
// units: [time.Duration] for durations, int64 bytes for memory and
// [units.CPU] cores for CPU. Errors are all reported at once as
// [*FieldError] values inside a *multierror.Error; values that load but will
// not work are returned as [Warning] values by [Config.Warnings].
//
// The controller's own image and the service-discovery URL come from the
// environment only; [ReadEnvironment] reads them.
package schema
