// Package alert reports the controller's failures to Slack (§7 of the
// controller spec): uncaught route errors, failed spawns, deletions and
// file-server operations, and failures of the background loops and of
// prepulls.
//
// A [Reporter] turns an error into the spec's message and hands it to an
// [slack.Alerter], which posts it in the background: reporting never
// blocks the failed operation. The message is
//
//   - a section "Error in {name}: {summary}";
//   - a section of fields "*Exception type*", "*Failed at*" (UTC, to the
//     millisecond), "*User*" when the user is known and "*Status*" for a
//     Kubernetes error that has an HTTP status;
//   - for a Kubernetes error (an [*apply.ObjectError]), the sections
//     "*Object*\n{Kind} {namespace}/{name}" and, when the API server said
//     why, "*Error*\n```\n{message}\n```";
//   - a divider.
//
// The summary of a Kubernetes error is "{message} ({Kind} {ns}/{name},
// status {status})", its string form without the API server's message
// (which goes to the Error section); any other error's summary is its
// text. Client errors, a [*nublado.Error] whose code a client is answered
// with a 4xx, are never reported.
//
// The exception type is "KubernetesError" for a Kubernetes error and
// otherwise the Go type of the first error in the chain that is more than
// a wrapper, such as "labs.timeoutError" or "alert.PanicError" ("error"
// for a plain error).
//
// [slack.Alerter]: github.com/nublado-go/nublado/internal/slack.Alerter
package alert
