package images

import (
	"context"
	"fmt"
)

// Source is where lab images come from: a Docker registry ([DockerSource])
// or Google Artifact Registry ([GARSource]). The controller's refresh loop
// calls Refresh on a timer and resolves lab requests against the latest
// Catalog, passing the Source as its [Digester].
type Source interface {
	// Refresh reads the registry and returns a new catalog (without node
	// data: see [Catalog.SetNodes]).
	Refresh(ctx context.Context) (*Catalog, error)
	// Digest returns the current digest of a tag.
	Digest(ctx context.Context, tag string) (string, error)
}

var (
	_ Source = (*DockerSource)(nil)
	_ Source = (*GARSource)(nil)
)

// DefaultLookups is how many manifest digests a [DockerSource] looks up at
// once.
const DefaultLookups = 8

// DockerSource is the [Source] of a Docker registry repository. A refresh
// lists every tag, parses them with the aliases and cycle of its settings,
// and looks up digests (HEAD, in parallel) for the prepull set only.
type DockerSource struct {
	client   *DockerClient
	settings Settings
	lookups  int
}

// NewDockerSource returns the source of the client's repository for these
// settings, doing at most lookups digest requests at once (0 means
// [DefaultLookups]).
func NewDockerSource(client *DockerClient, settings Settings, lookups int) *DockerSource {
	if lookups <= 0 {
		lookups = DefaultLookups
	}
	return &DockerSource{client: client, settings: settings, lookups: lookups}
}

// Refresh implements [Source].
func (s *DockerSource) Refresh(ctx context.Context) (*Catalog, error) {
	names, err := s.client.ListTags(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	tags := TagCollectionFromNames(names, s.settings.Aliases(), s.settings.Cycle)
	digests, err := s.digests(ctx, PrepullTags(tags, s.settings).Names())
	if err != nil {
		return nil, err
	}
	return NewDockerCatalog(s.client.Config(), s.settings, tags, digests), nil
}

// Digest implements [Source] and [Digester].
func (s *DockerSource) Digest(ctx context.Context, tag string) (string, error) {
	return s.client.Digest(ctx, tag)
}

// digests looks up the digests of tags, at most s.lookups at once.
func (s *DockerSource) digests(ctx context.Context, tags []string) (map[string]string, error) {
	return lookupDigests(ctx, s.client, tags, s.lookups)
}
