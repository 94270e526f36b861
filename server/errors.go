package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"

	nublado "github.com/nublado-go/nublado"
)

// handler is a route handler: it writes a response, or returns an error
// that [Server.handle] turns into one.
type handler func(w http.ResponseWriter, r *http.Request) error

// codeStatus maps every client-facing error code to its HTTP status (§1.2).
var codeStatus = map[nublado.ErrorCode]int{
	nublado.CodeInvalidToken:           http.StatusUnauthorized,
	nublado.CodePermissionDenied:       http.StatusForbidden,
	nublado.CodeInsufficientQuota:      http.StatusForbidden,
	nublado.CodeUnknownImage:           http.StatusBadRequest,
	nublado.CodeInvalidDockerReference: http.StatusUnprocessableEntity,
	nublado.CodeInvalidLabSize:         http.StatusUnprocessableEntity,
	nublado.CodeLabExists:              http.StatusConflict,
	nublado.CodeOperationInProgress:    http.StatusConflict,
	nublado.CodeUnknownUser:            http.StatusNotFound,
	nublado.CodeNotSupported:           http.StatusNotFound,
	nublado.CodeNotFound:               http.StatusNotFound,
	nublado.CodeInvalidPhase:           http.StatusNotFound,
	nublado.CodeDeleteFailed:           http.StatusInternalServerError,
	nublado.CodeFileServerCreateFailed: http.StatusInternalServerError,
	nublado.CodeFileServerDeleteFailed: http.StatusInternalServerError,
	nublado.CodeValueError:             http.StatusUnprocessableEntity,
	nublado.CodeMissingSecret:          http.StatusInternalServerError,
}

// StatusOf returns the HTTP status of an error code, 500 for unknown codes.
func StatusOf(code nublado.ErrorCode) int {
	if s, ok := codeStatus[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorItem is one entry of a controller error body; Loc is omitted when
// the error has no location.
type errorItem struct {
	Loc  []string          `json:"loc,omitempty"`
	Msg  string            `json:"msg"`
	Type nublado.ErrorCode `json:"type"`
}

// errorBody is {"detail": [...]}.
type errorBody struct {
	Detail []errorItem `json:"detail"`
}

// plainDetail is Starlette's {"detail": "<text>"} body.
type plainDetail struct {
	Detail string `json:"detail"`
}

// statusError is an HTTP error answered with a string detail (404, 405,
// 413).
type statusError struct {
	status int
	detail string
}

func (e *statusError) Error() string { return e.detail }

// handle adapts a handler: the one place where errors become responses.
func (s *Server) handle(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	}
}

// writeError answers err: validation errors 422 with their detail list,
// *nublado.Error with its code's status, string-detail errors with theirs,
// anything else a logged 500 with a plain-text body.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verr *ValidationError
		nerr *nublado.Error
		serr *statusError
	)
	switch {
	case errors.As(err, &verr):
		writeJSON(w, http.StatusUnprocessableEntity, verr)
	case errors.As(err, &nerr):
		status := StatusOf(nerr.Code)
		if status >= 500 {
			cause := err
			if nerr.Err != nil {
				cause = nerr.Err
			}
			LoggerFrom(r.Context(), s.log).WithError(cause).WithField("error_type", string(nerr.Code)).Error(nerr.Message)
		}
		writeJSON(w, status, errorBody{Detail: []errorItem{{Loc: nerr.Loc, Msg: nerr.Message, Type: nerr.Code}}})
	case errors.As(err, &serr):
		writeJSON(w, serr.status, plainDetail{serr.detail})
	default:
		LoggerFrom(r.Context(), s.log).WithError(err).Error("Uncaught error in request")
		s.reporter.Report(pathUser(r), err)
		writeInternalError(w)
	}
}

// writeInternalError answers 500 as Starlette does for an uncaught
// exception.
func writeInternalError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("Internal Server Error"))
}

// writeJSON writes v as JSON with the given status. HTML characters are not
// escaped, as Python's json module does not.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeInternalError(w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// notFound answers unknown routes. A path with a trailing slash whose
// slash-less form is a route is redirected there with 307, as Starlette
// does.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if len(path) > 1 && path[len(path)-1] == '/' {
		trimmed := path[:len(path)-1]
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			if s.mux.Match(chiContext(), m, trimmed) {
				u := *r.URL
				u.Path, u.RawPath = trimmed, ""
				w.Header().Set("Location", u.RequestURI())
				w.WriteHeader(http.StatusTemporaryRedirect)
				return
			}
		}
	}
	writeJSON(w, http.StatusNotFound, plainDetail{"Not Found"})
}
