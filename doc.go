// Package nublado is the root of nublado, a Go re-implementation of the Rubin
// Science Platform's Nublado lab controller.
//
// The package holds only the shared vocabulary of the project: the embedded
// CUE module ([CUE]) and the few domain types and sentinel errors that more
// than one layer needs. It imports nothing else of the project. See
// docs/ and ../shared/design/architecture.md for the layout.
package nublado
