package server

import (
	"context"
	"fmt"
	"net/http"

	nublado "github.com/nublado-go/nublado"
)

// MenuEntry is one image choice of the lab form: the Docker reference sent
// back on submit and the name shown.
type MenuEntry struct {
	Reference string
	Name      string
}

// Images is the image service as the server uses it (the images catalog
// behind the prepuller implements it).
type Images interface {
	// LabFormImages returns the lab form's radio-button menu (§5.5: the
	// recommended image first, then prepulled images; references with
	// digests) and its drop-down list (the dropdownMenu-filtered tags).
	LabFormImages(ctx context.Context) (menu, dropdown []MenuEntry, err error)
	// SpawnerImages returns the body of GET {p}/spawner/v1/images
	// (images.SpawnerImages), which the server marshals with
	// encoding/json.
	SpawnerImages(ctx context.Context) (any, error)
	// Prepulls returns the body of GET {p}/spawner/v1/prepulls
	// (images.PrepullerStatus), marshalled with encoding/json.
	Prepulls(ctx context.Context) (any, error)
}

// notSupported is the 404 of a service that is not configured.
func notSupported(msg string) error {
	return &nublado.Error{Code: nublado.CodeNotSupported, Message: msg}
}

func (s *Server) imagesOrError() (Images, error) {
	if s.images == nil {
		return nil, notSupported("Image service is not available")
	}
	return s.images, nil
}

// getImages is route #9.
func (s *Server) getImages(w http.ResponseWriter, r *http.Request) error {
	im, err := s.imagesOrError()
	if err != nil {
		return err
	}
	body, err := im.SpawnerImages(r.Context())
	if err != nil {
		return fmt.Errorf("listing images: %w", err)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// getPrepulls is route #10.
func (s *Server) getPrepulls(w http.ResponseWriter, r *http.Request) error {
	im, err := s.imagesOrError()
	if err != nil {
		return err
	}
	body, err := im.Prepulls(r.Context())
	if err != nil {
		return fmt.Errorf("reading prepuller status: %w", err)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
