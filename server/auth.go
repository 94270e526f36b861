package server

import (
	"errors"
	"fmt"
	"net/http"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/gafaelfawr"
)

// Headers set by Gafaelfawr's ingress.
const (
	headerUser  = "X-Auth-Request-User"
	headerToken = "X-Auth-Request-Token"
)

// permissionDenied is the 403 of a user/path mismatch.
func permissionDenied() error {
	return &nublado.Error{Code: nublado.CodePermissionDenied, Message: "Permission denied"}
}

// header returns a required header, or the FastAPI error of its absence
// (loc ["header", lower-case name]). A header sent more than once is
// refused with a 422 value_error at the same loc, without echoing the
// values (one may be a token): FastAPI would take the first value, but the
// ingress sets these headers once, so a second one means something
// upstream appended rather than replaced, and the first may be the
// client's own.
func header(r *http.Request, name string) (string, *FieldError) {
	vals, ok := r.Header[name]
	switch {
	case !ok || len(vals) == 0:
		e := missing(nil, "header", lowerHeader(name))
		return "", &e
	case len(vals) > 1:
		e := valueError(nil, fmt.Sprintf("Header %s must be sent once, not %d times", name, len(vals)),
			"header", lowerHeader(name))
		return "", &e
	}
	return vals[0], nil
}

func lowerHeader(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// authUser is the user dependency (U): it needs both headers, asks
// Gafaelfawr who the token belongs to and checks that it is the header
// user. Missing headers are returned as field errors, to be reported with
// any body errors; the other failures as errors (401 invalid_token, 403
// permission_denied, 500).
func (s *Server) authUser(r *http.Request) (*nublado.User, string, []FieldError, error) {
	username, uerr := header(r, headerUser)
	token, terr := header(r, headerToken)
	var errs []FieldError
	for _, e := range []*FieldError{uerr, terr} {
		if e != nil {
			errs = append(errs, *e)
		}
	}
	if errs != nil {
		return nil, "", errs, nil
	}
	user, err := s.users.UserInfo(r.Context(), token)
	switch {
	case errors.Is(err, gafaelfawr.ErrInvalidToken):
		return nil, "", nil, &nublado.Error{Code: nublado.CodeInvalidToken, Message: "User token is invalid", Err: err}
	case err != nil:
		return nil, "", nil, fmt.Errorf("authenticating %q: %w", username, err)
	case user.Username != username:
		return nil, "", nil, permissionDenied()
	}
	return user, token, nil, nil
}

// requireUser runs the user dependency for a route without a body.
func (s *Server) requireUser(r *http.Request) (*nublado.User, string, error) {
	user, token, errs, err := s.authUser(r)
	if err != nil {
		return nil, "", err
	}
	if errs != nil {
		return nil, "", validationError(errs)
	}
	return user, token, nil
}

// requirePathUser is the path dependency (P): X-Auth-Request-User must be
// the path's user.
func requirePathUser(r *http.Request, pathUser string) error {
	username, ferr := header(r, headerUser)
	if ferr != nil {
		return validationError([]FieldError{*ferr})
	}
	if username != pathUser {
		return permissionDenied()
	}
	return nil
}

// headerUsername is the header-only dependency (H).
func headerUsername(r *http.Request) (string, error) {
	username, ferr := header(r, headerUser)
	if ferr != nil {
		return "", validationError([]FieldError{*ferr})
	}
	return username, nil
}
