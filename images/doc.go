// Package images is the RSP image model of nublado: the tag grammar and its
// ordering, tag and image collections with alias resolution, the retention
// filter, the prepull set and node eligibility, the spawner form menus, the
// bodies of GET /spawner/v1/images and /spawner/v1/prepulls, the resolution
// of a lab request's image, and the two registry sources (a Docker Registry
// v2 repository and an image in Google Artifact Registry).
//
// # Pure part
//
// [ParseTag], [AliasTag], [Compare], [TagCollection], [ImageCollection],
// [FilterPolicy], [Eligibility], [CachedImages] and [Catalog] do no I/O and
// read no clock (callers pass the age basis of filters). A [Catalog] is one
// refresh's view of the registry; build it with [NewDockerCatalog] or
// [NewGARCatalog] (or get it from a [Source]), record the nodes with
// [Catalog.SetNodes], then ask it for [Catalog.Menu], [Catalog.Dropdown],
// [Catalog.SpawnerImages], [Catalog.PrepullerStatus], [Catalog.Missing] (what
// the prepuller pulls on a node) and [Catalog.Resolve]. A Catalog is safe
// for concurrent use and hands out copies; the collections are not.
//
// Node data is taken as plain values ([Node], [Taint], [Toleration],
// [ContainerImage]) mirroring the fields of core/v1 that matter, so that the
// package does not depend on the Kubernetes API types; the caller copies
// them from the Node objects and the lab configuration.
//
// # Errors
//
// Resolution fails with [*UnknownImageError] (API type unknown_image, HTTP
// 400) or [*InvalidReferenceError] (invalid_docker_reference, 422, also for
// references without a "/", decision D2), both carrying the request
// attribute for the error's loc and the exact API message. Docker registry
// failures are go-containerregistry's [*transport.Error] (check the status
// with errors.As and StatusCode), [*AuthError] (wrapping the 401's
// transport error), [*InvalidURLError] (a refused tag page) and
// [*ResponseError] (an unusable 200); transport failures are net/http's.
// GAR failures are gRPC status errors. All are wrapped with context.
//
// # Sources
//
// [DockerSource] lists every tag (following Link pages) and looks up
// digests only for the prepull set, in parallel; [GARSource] lists every
// version of the image with digests and sizes, retrying INTERNAL and
// UNAVAILABLE. Both implement [Source] (Refresh and Digest). The clients
// ([DockerClient], [GARClient]) also serve `nublado images`: both
// implement [Registry], over which [List], [Delete] and [Prune] run the
// algorithms of tools §1.10, and [ToolConfig] is that command's config
// file. The Docker client is built on go-containerregistry: its transport
// does the authentication handshake (a /v2/ ping, Basic credentials or a
// Bearer token for the repository scope, refreshed on a 401) and
// remote.Delete deletes; the tag-list paging and the manifest HEAD are the
// client's own requests, for the checks and the Accept list the spec pins.
//
// Package imagestest runs the registries the tests use: the in-memory
// Docker registry and a local Artifact Registry gRPC server.
//
// Deviations from Nublado 15.1.0, all where it silently lost data: adding a
// versioned image that unresolved aliases wait for keeps arch-specific
// images; [ImageCollection.Subtract] subtracts arch-specific digests too; a
// 401 with a cached Bearer token re-authenticates once (tokens expire)
// before the credentials count as rejected; equal tags sort by tag string
// instead of set order; "tags": null lists no tags. [Delete] and [Prune]
// look up every digest before deleting and delete each image once, so two
// tags of one image no longer make the second HEAD fail with a 404.
package images
