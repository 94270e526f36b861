// Package fileservers is the file-server manager of the controller: it
// creates, tracks and deletes users' WebDAV file servers (spec
// ../shared/spec/controller.md §3.6, §4.9) and implements
// server.FileServers for the routes `GET {fp}` and
// `{p}/fileserver/v1/...`. It is built only when fileserver.enabled is
// true; the server answers 404 not_supported otherwise (decision D4).
//
// # Objects
//
// A user's file server lives in fileserver.namespace and is rendered from
// the fileserver template: the PVCs of its PVC volumes, a
// GafaelfawrIngress {user}-fs (Gafaelfawr's operator makes the Ingress
// {user}-fs from it, and an ingress controller gives that a load-balancer
// IP), the Service {user}-fs and the Job {user}-fs, whose pod runs
// worblehat. They are applied with server-side apply through the apply
// engine.
//
// # State
//
// The manager keeps one record per user: whether the file server runs
// (and the UID of its Job), the user's mutex, whether an operation is in
// progress and when the last one ended. Records are never removed while
// the manager runs; all state is rebuilt from Kubernetes at start.
//
// Two informers watch the namespace: the file-server pods (label
// nublado.lsst.io/category=fileserver), indexed by their job-name label,
// and the Ingresses. Their caches hold slimmed objects. They wake the
// creations waiting for a user's Ingress or pod, and the pod informer is
// the pod watcher: a pod of a running file server that ends (Succeeded,
// Failed) makes the manager delete that file server ("File server exited,
// cleaning up"). This is how the idle timeout works: worblehat exits after
// WORBLEHAT_TIMEOUT idle seconds (fileserver.idleTimeout). Nothing polls.
//
// # Operations
//
// [Manager.Create] (route `GET {fp}`) holds the user's mutex; when the
// file server runs it returns at once. Otherwise it renders and applies
// the objects, replaces a Job that existed already, and waits until the
// Ingress has an IP and a pod of the new Job has left Pending, all within
// fileserver.creationTimeout ("File server creation timed out after
// {seconds}"). On any failure it logs, deletes every object of the file
// server and returns the error (the server answers 500
// file_server_create_failed).
//
// [Manager.Delete] (admin route, pod watcher, reconcile) holds the user's
// mutex and deletes, within fileserver.deleteTimeout and waiting for each:
// the GafaelfawrIngress, the Ingress, the Service, the Job (propagation
// Foreground) and the user's PVCs.
//
// [Manager.Reconcile] runs at start and every
// fileserver.reconcileInterval: it adopts running file servers it does not
// know (those of an earlier controller) and deletes broken ones and the
// remains of vanished ones; see its documentation.
//
// # Compatibility choices
//
//   - Objects that exist already are taken over by server-side apply
//     rather than deleted and created again; only the Job is replaced
//     (deleted with its pods, waited for, created again), since its pod may
//     have ended. PVCs, and with them the data on them, survive.
//   - The pod watcher deletes a file server only for a pod of its own Job:
//     an ended pod of a Job that a creation just replaced does not delete
//     the new file server.
//   - Decision D11: reconcile has no stale variable, and the objects of a
//     broken file server whose record says it does not run (the remains of
//     a creation whose cleanup failed) are deleted like those of a user
//     without a record, instead of being left alone. File-server
//     GafaelfawrIngresses, Services and PVCs of a user without a Job (a
//     creation that failed before its Job) are deleted too.
//   - Reconcile lists the Jobs, pods and Ingresses from the API server
//     rather than reading the informer caches, so that it never deletes a
//     file server on the strength of a lagging cache; it also holds the
//     user's mutex for every deletion and skips users with an operation in
//     progress.
//   - The Ingress is deleted explicitly after the GafaelfawrIngress (the
//     original waits for the garbage collector to delete it).
//   - A creation or deletion runs to its end (or timeout) even when the
//     client that asked for it goes away.
//   - Running lists the users sorted by name.
//
// # Concurrency
//
// A Manager is safe for concurrent use. Operations on different users run
// in parallel; operations on one user run one at a time.
package fileservers
