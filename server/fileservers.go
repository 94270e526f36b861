package server

import (
	"context"
	"errors"
	"net/http"
	"slices"

	nublado "github.com/nublado-go/nublado"
)

// FileServers is the file-server manager as the server uses it. The server
// is given none when file servers are disabled.
type FileServers interface {
	// Running returns the users whose file server is running; empty, not
	// nil, when there are none.
	Running(ctx context.Context) []string
	// Create makes sure the user has a file server and waits until it is
	// ready (§3.6, §4.9), within the configured creation timeout. token is
	// the user's delegated token. Every error is answered 500
	// file_server_create_failed with its text.
	Create(ctx context.Context, user *nublado.User, token string) error
	// Delete deletes the user's file server and waits. A *nublado.Error is
	// answered as is (404 unknown_user "Unknown user {u}" or "File server
	// for {u} not running"); any other error is answered 500
	// file_server_delete_failed with its text.
	Delete(ctx context.Context, user string) error
}

func (s *Server) fileServersOrError() (FileServers, error) {
	if s.fileServers == nil {
		return nil, notSupported("Fileserver is disabled in configuration")
	}
	return s.fileServers, nil
}

// getFileServers is route #12.
func (s *Server) getFileServers(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.fileServersOrError()
	if err != nil {
		return err
	}
	users := fs.Running(r.Context())
	if users == nil {
		users = []string{}
	}
	writeJSON(w, http.StatusOK, users)
	return nil
}

// fileServerStatus is the body of routes #13 and #15.
type fileServerStatus struct {
	Running bool `json:"running"`
}

func (s *Server) writeFileServerStatus(w http.ResponseWriter, r *http.Request, fs FileServers, user string) error {
	if !slices.Contains(fs.Running(r.Context()), user) {
		return &nublado.Error{Code: nublado.CodeUnknownUser, Message: "No file server running"}
	}
	writeJSON(w, http.StatusOK, fileServerStatus{Running: true})
	return nil
}

// getFileServer is route #13.
func (s *Server) getFileServer(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.fileServersOrError()
	if err != nil {
		return err
	}
	return s.writeFileServerStatus(w, r, fs, pathUser(r))
}

// getFileServerUserStatus is route #15.
func (s *Server) getFileServerUserStatus(w http.ResponseWriter, r *http.Request) error {
	user, err := headerUsername(r)
	if err != nil {
		return err
	}
	fs, err := s.fileServersOrError()
	if err != nil {
		return err
	}
	return s.writeFileServerStatus(w, r, fs, user)
}

// deleteFileServer is route #14 (404 not_supported when disabled:
// decision D4).
func (s *Server) deleteFileServer(w http.ResponseWriter, r *http.Request) error {
	fs, err := s.fileServersOrError()
	if err != nil {
		return err
	}
	err = fs.Delete(r.Context(), pathUser(r))
	var nerr *nublado.Error
	switch {
	case err == nil:
		w.WriteHeader(http.StatusNoContent)
		return nil
	case errors.As(err, &nerr):
		return err
	}
	return &nublado.Error{
		Code: nublado.CodeFileServerDeleteFailed, Message: "Failed to delete file server: " + err.Error(), Err: err,
	}
}

// getFiles is route #19: create the user's file server and show its page.
func (s *Server) getFiles(w http.ResponseWriter, r *http.Request) error {
	user, token, err := s.requireUser(r)
	if err != nil {
		return err
	}
	fs, err := s.fileServersOrError()
	if err != nil {
		return err
	}
	if err := fs.Create(r.Context(), user, token); err != nil {
		return &nublado.Error{
			Code: nublado.CodeFileServerCreateFailed, Message: "Failed to create file server: " + err.Error(), Err: err,
		}
	}
	return s.pages.fileServer(w, s.cfg.BaseURL+s.filesPrefix()+"/"+user.Username)
}
