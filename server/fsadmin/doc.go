// Package fsadmin manages the fsadmin pod: a privileged pod in the
// controller's namespace that mounts every lab file system read-write for
// administrators (spec ../shared/spec/controller.md §1.3 #16–#18, §3.7).
// It implements server.FSAdmin for `{p}/fsadmin/v1/service`.
//
// Status, Start and Stop run one at a time (one mutex: a stop waits for a
// start in progress). Status reads the pod {fsadmin.podName}: its
// status.startTime when it runs, a *nublado.Error not_found
// "{namespace}/{podName}" when it does not exist and invalid_phase
// "{phase}" otherwise (both answered 404). Start returns the status of a
// running pod as is; otherwise it renders the fsadmin template (the PVCs
// of the PVC volumes the pod mounts and the pod), deletes a pod that
// exists but does not run, applies the objects, waits until the pod has
// left Pending and returns its status. Stop deletes the pod and then the
// fsadmin PVCs, waiting for each to be gone. Start and Stop are bounded by
// fsadmin.timeout.
//
// # Compatibility choices
//
//   - Decision D7: the template builds the pod's read-write mounts from
//     the configuration; nothing ever changes the configuration, so labs
//     spawned after an fsadmin start keep their read-only mounts.
//   - Existing PVCs are taken over by server-side apply instead of being
//     deleted and created again; only the pod is replaced.
//   - Stop deletes every PVC labelled nublado.lsst.io/category=fsadmin in
//     the controller's namespace, also those an earlier configuration
//     named.
//   - Once started, a start or stop runs to its end (or to
//     fsadmin.timeout) even when the client goes away.
package fsadmin
