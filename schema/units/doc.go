// Package units parses and formats the quantities of Nublado's configuration
// the way the Python original does, so that every other package (schema, the
// render engine, the controller, the provisioners) agrees on them:
//
//   - durations ([ParseDuration]): a number of seconds, or a string such as
//     "2h", "4h 3minutes" or "5w4d" (weeks, days, hours, minutes, seconds in
//     that order); ISO 8601 is not accepted;
//   - memory ([ParseMemory]): bytes, or a number with a decimal (k, K, M, G,
//     T, P, E) or binary (Ki, Mi, Gi, Ti, Pi, Ei) unit and an optional
//     trailing B, truncated to whole bytes; [FormatBytesSI] is the reverse
//     (Python's "%g" with binary units, e.g. 117.738Mi);
//   - CPU ([ParseCPU]): cores as a number with at most three decimals, or
//     whole millicores ("450m"); [CPU.String] prints Python's str(float)
//     ("1.0", "0.25"), which is what lab objects carry;
//   - Kubernetes quantities ([ParseQuantity], [QuantityBytes], [QuantityCPU]):
//     values read back from the API server (decision D10), parsed with
//     k8s.io/apimachinery's resource.Quantity.
//
// The package depends on nothing but the standard library and apimachinery,
// so the render engine and the provisioners can use it without client-go or
// CUE.
package units
