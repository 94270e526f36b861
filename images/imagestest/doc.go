// Package imagestest runs real registries for tests of the images package
// and of `nublado images`: go-containerregistry's in-memory Docker
// registry on an httptest server (with tag-list paging and request
// counts), and a local gRPC server implementing the Artifact Registry
// calls that nublado makes (ListDockerImages, GetTag,
// BatchDeleteVersions). It does not import the images package, so that
// the package's own tests can use it.
package imagestest
