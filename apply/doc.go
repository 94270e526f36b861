// Package apply puts sets of Kubernetes objects on a cluster with
// server-side apply, shows what an apply would change, deletes object sets
// and waits for readiness or deletion. It talks to the API server through
// client-go's dynamic client and knows nothing about how the objects were
// made.
//
// # Apply
//
// [Applier.Apply] applies every object as field manager "nublado" (see
// [FieldManager]) with force, so nublado takes every field it sets even when
// another manager set it before. It works in stages:
//
//  1. Namespaces and CustomResourceDefinitions (new or changed CRDs are
//     waited for until Established).
//  2. Everything else except Pods and Jobs, concurrently with a bounded
//     number of workers ([WithWorkers]).
//  3. Pods and Jobs. Before them, in a namespace created by this apply,
//     Apply waits (with a watch) for the ServiceAccount the pod runs as, and
//     for every ResourceQuota created or changed by this apply until the
//     quota controller has computed its status. In other namespaces a pod
//     refused because its ServiceAccount does not exist yet is applied again
//     once the account appears.
//
// An identical re-apply changes nothing on the server: no write, no new
// resourceVersion. ConfigMaps and Secrets marked immutable whose content
// changed are deleted and created again; a Pod or Job whose immutable spec
// changed is an error unless the caller passes [Recreate].
//
// Objects that another field manager created with a plain create or update
// (the Python controller did) are taken over: every Update-operation
// manager of the main resource that set some of the same fields to the same
// values as nublado is merged into nublado's apply entry (the
// k8s.io/client-go/util/csaupgrade migration), and the object is applied
// once more, so that afterwards nublado owns every field it sets and fields
// it no longer sets are removed. Managers that only own fields nublado does
// not set (controllers, a `kubectl label`) keep them.
//
// # Change sets
//
// Apply, Delete and Diff return a [ChangeSet]: one [Change] per object with
// an [Action]. The package does not log; callers log the change set.
//
//   - created: the object did not exist and was created.
//   - configured: the object existed and the apply changed it (or its field
//     ownership).
//   - unchanged: the object existed and nothing changed on the server; for
//     Delete, the object did not exist.
//   - recreated: the object was deleted and created again because the
//     change could not be made in place.
//   - deleted: the object was deleted.
//
// # Errors and retries
//
// Every failure about an object is an [*ObjectError] carrying the
// operation, the object, the HTTP status and the API server's message; its
// Error method gives the text Nublado shows users, for example
// "Error creating object (Service userlabs-rachel/lab, status 400): Something
// bad happened". Transient failures (429, 5xx, refused connections,
// timeouts) are retried with exponential backoff, honouring Retry-After,
// until the context ends; other 4xx answers are returned at once.
//
// # Watches
//
// Everything that waits does so with watches, never by polling: each watch
// request lasts at most the watch timeout ([WithWatchTimeout], the
// configuration's watchReconnectTimeout) and is restarted from the last
// resourceVersion when it ends; when the server answers 410 Gone the watch
// starts over from the current state. [Applier.Wait] computes readiness
// with kstatus; [Applier.WaitPodPhase] and [Applier.WatchEvents] serve the
// lab spawn flow.
//
// An Applier is safe for concurrent use.
package apply
