package prepuller

import (
	"context"
	"errors"

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
// prepull set. An image that does not exist is a *nublado.Error with code
// unknown_image (400), a reference without a tag or not a reference at all
// one with code invalid_docker_reference (422), both with loc ["body",
// "options", attribute] and wrapping the [*images.UnknownImageError] or
// [*images.InvalidReferenceError]; any other error is a registry failure.
func (s *Service) Resolve(ctx context.Context, req nublado.ImageRequest) (*images.Image, error) {
	cat, err := s.current()
	if err != nil {
		return nil, err
	}
	img, err := cat.Resolve(ctx, images.ImageRequest{Attribute: req.Attribute, Value: req.Value}, s.source)
	if err != nil {
		return nil, clientError(err)
	}
	return img, nil
}

// clientError turns the image errors a client sees into *nublado.Error.
func clientError(err error) error {
	var unknown *images.UnknownImageError
	if errors.As(err, &unknown) {
		return &nublado.Error{Code: nublado.CodeUnknownImage, Message: unknown.Error(),
			Loc: []string{"body", "options", unknown.Attribute}, Err: err}
	}
	var invalid *images.InvalidReferenceError
	if errors.As(err, &invalid) {
		return &nublado.Error{Code: nublado.CodeInvalidDockerReference, Message: invalid.Error(),
			Loc: []string{"body", "options", invalid.Attribute}, Err: err}
	}
	return err
}
