package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// FSAdmin is the fsadmin manager as the server uses it. Its calls are
// serialised by the manager (one mutex, §1.3 #16–#18).
type FSAdmin interface {
	// Status returns the status of the running fsadmin pod. A
	// *nublado.Error not_found ("{ns}/{podName}") or invalid_phase
	// ("{phase}") is answered 404; other errors 500.
	Status(ctx context.Context) (*FSAdminStatus, error)
	// Start returns the status of a healthy fsadmin pod, (re)creating it
	// first when needed; errors as for Status.
	Start(ctx context.Context) (*FSAdminStatus, error)
	// Stop deletes the fsadmin pod and its claims and waits; nothing to
	// delete is not an error.
	Stop(ctx context.Context) error
}

// FSAdminStatus is the body of the fsadmin routes: the pod's start time.
type FSAdminStatus struct {
	// StartTime is the pod's status.startTime.
	StartTime time.Time
}

// MarshalJSON writes {"start_time": "2025-08-25T16:57:38Z"} (RFC 3339, UTC,
// whole seconds).
func (st FSAdminStatus) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"start_time": st.StartTime.UTC().Format(time.RFC3339)})
}

func (s *Server) fsadminOrError() (FSAdmin, error) {
	if s.fsadmin == nil {
		return nil, notSupported("fsadmin is not available")
	}
	return s.fsadmin, nil
}

// getFSAdmin is route #16.
func (s *Server) getFSAdmin(w http.ResponseWriter, r *http.Request) error {
	fa, err := s.fsadminOrError()
	if err != nil {
		return err
	}
	st, err := fa.Status(r.Context())
	if err != nil {
		return fmt.Errorf("fsadmin status: %w", err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// postFSAdmin is route #17: the body must be {"start": true}.
func (s *Server) postFSAdmin(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if err := validationError(parseFSAdminRequest(body)); err != nil {
		return err
	}
	fa, err := s.fsadminOrError()
	if err != nil {
		return err
	}
	st, err := fa.Start(r.Context())
	if err != nil {
		return fmt.Errorf("starting fsadmin: %w", err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// parseFSAdminRequest validates {"start": true} (start is Literal[True]).
func parseFSAdminRequest(body any) []FieldError {
	if body == nil {
		return []FieldError{missing(nil, "body")}
	}
	obj, ok := body.(*object)
	if !ok {
		return []FieldError{modelType(body, "body")}
	}
	v, ok := obj.get("start")
	if !ok {
		return []FieldError{missing(obj, "body", "start")}
	}
	if v != true {
		return []FieldError{{
			Type: "literal_error", Loc: loc("body", "start"), Msg: "Input should be True",
			Input: v, Ctx: map[string]any{"expected": "True"},
		}}
	}
	return nil
}

// deleteFSAdmin is route #18.
func (s *Server) deleteFSAdmin(w http.ResponseWriter, r *http.Request) error {
	fa, err := s.fsadminOrError()
	if err != nil {
		return err
	}
	if err := fa.Stop(r.Context()); err != nil {
		return fmt.Errorf("stopping fsadmin: %w", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
