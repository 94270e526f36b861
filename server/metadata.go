package server

import "net/http"

// Metadata is the body of GET / (and, wrapped, of GET {p}); empty optional
// fields are omitted.
type Metadata struct {
	// Name is the config's name (default Nublado).
	Name string `json:"name"`
	// Version is the controller's version (see WithVersion).
	Version string `json:"version"`
	// Description is a fixed one-line description.
	Description string `json:"description,omitempty"`
	// RepositoryURL is the original project's repository.
	RepositoryURL string `json:"repository_url,omitempty"`
	// DocumentationURL is the original project's documentation.
	DocumentationURL string `json:"documentation_url,omitempty"`
}

func (s *Server) metadata() Metadata {
	return Metadata{
		Name:             s.cfg.Name,
		Version:          s.version,
		Description:      "Nublado Jupyter service for the Rubin Science Platform.",
		RepositoryURL:    "https://github.com/lsst-sqre/nublado",
		DocumentationURL: "https://nublado.lsst.io",
	}
}

// getRoot is route #1, the health check.
func (s *Server) getRoot(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.metadata())
	return nil
}

// getIndex is route #2.
func (s *Server) getIndex(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, struct {
		Metadata Metadata `json:"metadata"`
	}{s.metadata()})
	return nil
}
