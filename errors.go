package nublado

import "errors"

// Sentinel errors shared by the lab manager and the HTTP server, which maps
// each to one status code and error body in one place.
var (
	// ErrLabNotFound: the user has no lab (or no record at all).
	ErrLabNotFound = errors.New("lab not found")
	// ErrLabExists: the user already has a lab that is not terminated or failed.
	ErrLabExists = errors.New("lab already exists")
	// ErrOperationInProgress: another spawn or delete is running for the user.
	ErrOperationInProgress = errors.New("operation in progress")
)
