// Package labs is the lab manager of the controller: it spawns, tracks and
// deletes users' JupyterLab environments (spec ../shared/spec/controller.md
// §4.1–§4.8) and implements server.Labs for the spawner routes.
//
// # State
//
// The manager keeps one record per user in memory (§4.2): the lab state
// (nil once the lab is deleted), the event queue of the user's current or
// last operation, the operation in progress (a spawn or a delete, at most
// one per user) and when the last operation ended. Records are never
// removed while the manager runs. All state is rebuilt from Kubernetes when
// the manager starts (decision D18), so a restarted controller, or this one
// replacing the Python original, adopts every lab already in the cluster:
// labs are recognised by the names, labels and annotations of §3 alone.
//
// # Informers
//
// The state follows the cluster through shared informers on the dynamic
// client, one watch per kind, each cluster-wide with the label selector
// nublado.lsst.io/category=lab: Namespaces, Pods, ConfigMaps (only the
// data of the {user}-nb-env ones is kept) and ResourceQuotas. Their caches
// hold slimmed objects (no managedFields; of a pod only its metadata,
// container security contexts and phase), so a thousand labs cost about
// 10 MiB. Pod changes update the status of labs that no operation is
// working on (Pending → pending, Running → running, Succeeded and Failed →
// terminated, Unknown or a vanished pod → failed), and wake the operations
// waiting for a pod; nothing ever polls pod status, per request or
// otherwise. The informers resync every lab.reconcileInterval.
//
// Each watch request asks the server to end it after
// watchReconnectTimeout (timeoutSeconds) and is cut by the client a tenth
// of that later (at least one second, at most thirty) in any case, which is
// how a watch that went silent (a dead connection, a stuck proxy) is
// noticed; client-go's HTTP/2 health checks
// catch dead connections sooner. The reflector then watches again from the
// last resourceVersion and lists again after 410 Gone.
//
// # Operations
//
// [Manager.Create] checks the request, refreshes the lab's status from the
// informer cache (§4.4), installs the new state (pending) and starts the
// spawn (§4.5) in a goroutine that runs under the manager's lifetime, not
// the request's, bounded by lab.spawnTimeout. The spawn reads the source
// Secrets, renders the lab with the [Renderer] and applies it with the
// apply engine (server-side apply; the engine waits for the namespace's
// default ServiceAccount), then relays the Kubernetes Events of the pod
// (progress 35, 48, 57, …) until the pod leaves Pending. A pod that ends
// instead (decision D8) or disappears fails the spawn.
//
// [Manager.Delete] deletes the pod (grace period one second) and the
// namespace and waits for both to be gone (§4.6), bounded by
// lab.deleteTimeout. Concurrent deletes share one operation. A delete
// cancels a spawn in progress; the spawn's stream then ends with `failed`
// "Operation cancelled", as do all operations when [Manager.Stop] shuts the
// manager down.
//
// # Reconcile
//
// [Manager.Reconcile] runs when the manager starts (before Start returns)
// and every lab.reconcileInterval (§4.7). Only namespaces named
// {namespacePrefix}-{user} that carry the lab label are labs (decision D9):
// nublado never deletes, labels or adopts a namespace it did not label. It
// rebuilds unknown labs from their env ConfigMap, pod and quota (Kubernetes
// quantities parsed as quantities, decision D10), adopts the observed
// status of known labs, marks known labs that disappeared failed, deletes
// lab namespaces that hold no complete lab, monitors labs found pending and
// deletes (reaps) terminated and failed labs.
//
// # Compatibility choices
//
//   - An existing namespace is taken over by server-side apply instead of
//     failing the spawn with a 409, but only when it carries the lab label;
//     a namespace without it fails the spawn with the original's message
//     ("Error creating namespace (Namespace userlabs-rachel, status 409):
//     namespaces "userlabs-rachel" already exists") and is never touched.
//     Deleting such a lab leaves the namespace alone.
//   - A create for a user without a lab whose lab namespace is still in the
//     cluster deletes it first, with the delete-first events of a failed
//     lab, instead of failing.
//   - Before a create, the refresh of §4.4 skips labs with an operation in
//     progress, whose status the operation owns.
//   - A pod that disappears during a spawn fails it ("Lab pod disappeared
//     during spawn"); the original reported the lab running.
//   - Reconcile does not wait for the deletion of incomplete namespaces to
//     finish; namespaces being deleted are skipped, and a spawn into one
//     waits until it is gone.
//   - Labs adopted from an earlier controller are never re-applied: they
//     are only read and eventually deleted, so the field ownership of their
//     objects never matters. A new spawn deletes the old namespace first,
//     and the apply engine takes over the fields of any object it finds.
//   - A delete that times out reports "Lab delete timed out after {s}".
//   - Delete never answers 409: a delete waits for the delete in progress
//     and cancels a spawn.
//
// # Concurrency
//
// A Manager is safe for concurrent use. Concurrent reads of a source Secret
// share one request, and at most [DefaultApplySlots] spawns (see
// [WithApplySlots]) build and apply their objects at the same time.
package labs
