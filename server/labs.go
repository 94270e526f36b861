package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/server/events"
)

// unknownUser is the 404 of a user without a lab; withLoc adds
// loc ["path", "username"].
func unknownUser(user string, withLoc bool, cause error) error {
	e := &nublado.Error{Code: nublado.CodeUnknownUser, Message: "Unknown user " + user, Err: cause}
	if withLoc {
		e.Loc = []string{"path", "username"}
	}
	return e
}

func pathUser(r *http.Request) string { return chi.URLParam(r, "username") }

// getLabs is route #4: the users whose lab is running.
func (s *Server) getLabs(w http.ResponseWriter, r *http.Request) error {
	users := s.labs.Running(r.Context())
	if users == nil {
		users = []string{}
	}
	writeJSON(w, http.StatusOK, users)
	return nil
}

// getLab is route #5: a user's lab state.
func (s *Server) getLab(w http.ResponseWriter, r *http.Request) error {
	return s.writeState(w, r, pathUser(r), true)
}

// getUserStatus is route #11: the state of the header user's lab.
func (s *Server) getUserStatus(w http.ResponseWriter, r *http.Request) error {
	user, err := headerUsername(r)
	if err != nil {
		return err
	}
	return s.writeState(w, r, user, false)
}

func (s *Server) writeState(w http.ResponseWriter, r *http.Request, user string, withLoc bool) error {
	state, err := s.labs.State(r.Context(), user)
	if errors.Is(err, nublado.ErrLabNotFound) {
		return unknownUser(user, withLoc, err)
	}
	if err != nil {
		return fmt.Errorf("reading lab state of %q: %w", user, err)
	}
	writeJSON(w, http.StatusOK, state)
	return nil
}

// createLab is route #6. Body syntax first, then the user dependency (its
// header errors reported with the body's), then the body, then the checks
// of §1.3 #6 steps 1–3; the rest is the lab manager's.
func (s *Server) createLab(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	user, token, errs, err := s.authUser(r)
	if err != nil {
		return err
	}
	spec, bodyErrs := parseLabSpec(body)
	if err := validationError(append(errs, bodyErrs...)); err != nil {
		return err
	}
	username := pathUser(r)
	if user.Username != username {
		return permissionDenied()
	}
	if err := s.cfg.CheckLabUser(*user); err != nil {
		return err
	}
	req := nublado.CreateRequest{
		User: *user, Token: token, Size: spec.Size, EnableDebug: spec.EnableDebug,
		ResetUserEnv: spec.ResetUserEnv, Image: spec.Image, Env: spec.Env,
	}
	if err := s.labs.Create(r.Context(), req); err != nil {
		return err
	}
	scheme, host := externalBase(r)
	w.Header().Set("Location", scheme+"://"+host+s.prefix()+"/spawner/v1/labs/"+url.PathEscape(username))
	writeJSON(w, http.StatusCreated, nil)
	return nil
}

// deleteLab is route #7: delete a lab and wait for it.
func (s *Server) deleteLab(w http.ResponseWriter, r *http.Request) error {
	user := pathUser(r)
	err := s.labs.Delete(r.Context(), user)
	var nerr *nublado.Error
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
		return nil
	case errors.Is(err, nublado.ErrLabNotFound):
		return unknownUser(user, true, err)
	case errors.As(err, &nerr):
		return err
	}
	return &nublado.Error{Code: nublado.CodeDeleteFailed, Message: "Failed to delete lab", Err: err}
}

// getEvents is route #8: the Server-Sent Events of the user's operation.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request) error {
	user := pathUser(r)
	if err := requirePathUser(r, user); err != nil {
		return err
	}
	reader, err := s.labs.Events(r.Context(), user)
	if errors.Is(err, nublado.ErrLabNotFound) {
		return unknownUser(user, true, err)
	}
	if err != nil {
		return fmt.Errorf("reading events of %q: %w", user, err)
	}
	if err := events.Serve(w, r, reader, events.StreamOptions{Ping: s.ping}); err != nil {
		LoggerFrom(r.Context(), s.log).WithError(err).Debug("Event stream ended early")
	}
	return nil
}
