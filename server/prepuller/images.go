package prepuller

import (
	"context"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/server"
)

var _ server.Images = (*Service)(nil)

// LabFormImages implements server.Images: the form's radio-button menu
// (§5.5) and the drop-down filtered by the dropdownMenu policy at the
// service clock's now.
func (s *Service) LabFormImages(_ context.Context) (menu, dropdown []server.MenuEntry, err error) {
	cat, err := s.current()
	if err != nil {
		return nil, nil, err
	}
	down, err := cat.Dropdown(s.policy, s.now())
	if err != nil {
		return nil, nil, err
	}
	return menuEntries(cat.Menu()), menuEntries(down), nil
}

func menuEntries(in []images.MenuEntry) []server.MenuEntry {
	out := make([]server.MenuEntry, 0, len(in))
	for _, e := range in {
		out = append(out, server.MenuEntry{Reference: e.Reference, Name: e.Name})
	}
	return out
}

// SpawnerImages implements server.Images: the body of GET
// /spawner/v1/images, an [images.SpawnerImages].
func (s *Service) SpawnerImages(_ context.Context) (any, error) {
	cat, err := s.current()
	if err != nil {
		return nil, err
	}
	return cat.SpawnerImages(), nil
}

// Prepulls implements server.Images: the body of GET /spawner/v1/prepulls,
// an [images.PrepullerStatus].
func (s *Service) Prepulls(_ context.Context) (any, error) {
	cat, err := s.current()
	if err != nil {
		return nil, err
	}
	return cat.PrepullerStatus(s.prepulls), nil
}

// Resolve finds the image a lab request names (§5.6) in the current
// catalog, looking up a digest in the registry for Docker tags outside the
// prepull set. It fails with an [*images.UnknownImageError] (the image does
// not exist; the API's 400 unknown_image) or an
// [*images.InvalidReferenceError] (a reference without a tag or not a
// reference at all; 422 invalid_docker_reference), both carrying the
// request attribute; any other error is a registry failure, or
// [ErrNoCatalog] before the first refresh.
func (s *Service) Resolve(ctx context.Context, req nublado.ImageRequest) (*images.Image, error) {
	cat, err := s.current()
	if err != nil {
		return nil, err
	}
	return cat.Resolve(ctx, images.ImageRequest{Attribute: req.Attribute, Value: req.Value}, s.source)
}
