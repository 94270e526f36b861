// Package prepuller is the controller's image service (spec §5.7 of
// ../shared/spec/controller.md): it keeps the current [images.Catalog] of
// the lab-image registry, with the node data of the nodes that labs may run
// on, and answers everything the rest of the controller asks about images.
//
// A refresh ([Service.Refresh]) is serialised by a lock. It reads the nodes
// selected by lab.nodeSelector from a Node informer ([NodeWatcher]: one
// watch with the label selector, no polling, decision D18), computes each
// node's eligibility under lab.tolerations and its cached images from
// status.images, reads the registry through an [images.Source] (a Docker
// registry over HTTPS with the system trust store, or Google Artifact
// Registry), records the node data in the new catalog, installs it and
// raises the "refreshed" signal ([Service.Refreshed]). A failed refresh
// leaves the previous catalog in place, so the menus and image lists keep
// being served while the registry is down.
//
// The controller runs one refresh in the foreground at start (a failure
// aborts startup, §0) and then [Service.Run], the loop of §4.8: one
// refresh every images.refreshInterval, the first one interval after
// start; errors are logged and the loop goes on; a refresh that takes
// longer than the interval logs "Refreshing image data is running
// continuously" and the next one starts at once.
//
// The Service implements server.Images (the lab form's menus, the bodies
// of GET /spawner/v1/images and /spawner/v1/prepulls) and the lab
// manager's image resolver ([Service.Resolve]).
//
// # Prepulling
//
// The [Puller] is the prepuller of §5.7 with decisions D12 and D13. Its
// loop ([Puller.Run], started by serve next to [Service.Run]) waits on
// [Service.Refreshed], so its first round follows the startup refresh,
// and runs one round ([Puller.Round]) per refresh. A round reads
// [Service.Catalog] and, for every eligible node of
// [images.Catalog.Nodes] (ineligible nodes are left alone, D12), pulls the
// images of [images.Catalog.Missing] one after the other, nodes in
// parallel up to [WithNodeWorkers]. Each image is pulled by one pod of
// the prepull template (§3.8, rendered through a [Renderer]) in the
// controller's namespace, owned by the controller's pod: the pod is
// created (a pod of the same name is deleted first), followed through one
// informer on prepull pods until it ends or images.prepullTimeout passes,
// and deleted without waiting. A success records the image on the node
// with [images.Catalog.MarkImageSeenOnNode], so GET /spawner/v1/prepulls
// and the menus show it at once; the node's status.images, read again by
// the next refresh, confirms it. A failure is logged and not recorded
// (D13); the image is tried again in a later round with exponential
// backoff counted in rounds. A node that leaves the selected set during a
// round ([NodeRemovals], implemented by [NodeWatcher]) ends its prepulls
// quietly. [Metrics] count prepulls and rounds.
//
// Under kwok (the tests' fake kubelets) a prepull pod goes Running and
// then Succeeded through the testcluster stage pod-complete-prepuller;
// kwok does not add the image to the node's status.images, so tests that
// need the next refresh to see it report it themselves.
//
// All methods of Service and Puller are safe for concurrent use.
package prepuller
