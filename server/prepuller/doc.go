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
// The prepuller of §5.7 (prepull pods per node for the prepull-set images
// a node lacks) is a separate loop that waits on [Service.Refreshed], reads
// [Service.Catalog] (its [images.Catalog.Missing] per node of
// [images.Catalog.Nodes]) and records each pulled image with
// [images.Catalog.MarkImageSeenOnNode]; [RunLoop] gives it the loop
// semantics of §4.8.
//
// All methods of Service are safe for concurrent use.
package prepuller
