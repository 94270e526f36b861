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
//
// # Lab inputs
//
// [Config.LabInput] turns a lab request ([LabRequest]: the Gafaelfawr user,
// the delegated token, the parsed create options, the resolved image and
// what the controller read from Kubernetes and Repertoire) into the
// complete input of the lab template ([LabInput], #LabInput in
// lab_input.cue), computing every string the objects need. It first runs
// the request checks of [Config.CheckLabRequest]. Its errors are
// *nublado.Error values with the API's code, message and location.
package schema
