package nublado

import "errors"

// Sentinel errors shared by the lab manager and the HTTP server. Match them
// with errors.Is; the detailed client-facing form is an [*Error].
var (
	// ErrLabNotFound: the user has no lab (or no record at all).
	ErrLabNotFound = errors.New("lab not found")
	// ErrLabExists: the user already has a lab that is not terminated or failed.
	ErrLabExists = errors.New("lab already exists")
	// ErrOperationInProgress: another spawn or delete is running for the user.
	ErrOperationInProgress = errors.New("operation in progress")
)

// ErrorCode is the machine-readable `type` of an error body of the spawner
// API (§1.2 of the controller spec). The HTTP server maps each code to one
// status in one place.
type ErrorCode string

// Error codes of the controller API.
const (
	CodeInvalidToken           ErrorCode = "invalid_token"
	CodePermissionDenied       ErrorCode = "permission_denied"
	CodeInsufficientQuota      ErrorCode = "insufficient_quota"
	CodeUnknownImage           ErrorCode = "unknown_image"
	CodeInvalidDockerReference ErrorCode = "invalid_docker_reference"
	CodeInvalidLabSize         ErrorCode = "invalid_lab_size"
	CodeLabExists              ErrorCode = "lab_exists"
	CodeOperationInProgress    ErrorCode = "operation_in_progress"
	CodeUnknownUser            ErrorCode = "unknown_user"
	CodeNotSupported           ErrorCode = "not_supported"
	CodeNotFound               ErrorCode = "not_found"
	CodeInvalidPhase           ErrorCode = "invalid_phase"
	CodeDeleteFailed           ErrorCode = "delete_failed"
	CodeFileServerCreateFailed ErrorCode = "file_server_create_failed"
	CodeFileServerDeleteFailed ErrorCode = "file_server_delete_failed"
	// CodeValueError is FastAPI's type of a failed custom validator (422),
	// used for a lab request whose env lacks JUPYTERHUB_SERVICE_PREFIX when
	// the check happens outside the body parser.
	CodeValueError ErrorCode = "value_error"
	// CodeMissingSecret (500) is a Secret or Secret key that lab.secrets or
	// lab.pullSecret names but the controller's namespace lacks; the
	// original fails the spawn with the same message.
	CodeMissingSecret ErrorCode = "missing_secret"
)

// Error is an error a client of the controller sees: a code, the exact
// message of the spec, and optionally the location of the offending input
// (Loc, e.g. ["body", "options", "size"]; nil when there is none). Err, when
// set, is the cause (often one of the sentinels above) and is what
// errors.Is matches.
type Error struct {
	Code    ErrorCode
	Message string
	Loc     []string
	Err     error
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
