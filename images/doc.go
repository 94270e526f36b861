// Package images is the RSP image model: the tag grammar and its ordering,
// image collections with alias resolution, the menu and prepull logic, the
// retention filters, and the Docker registry and Google Artifact Registry
// sources. Everything but the sources is pure code without I/O.
package images
