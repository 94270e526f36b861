package images

import (
	"context"
	"fmt"
	"sync"
)

var _ Registry = (*DockerClient)(nil)

// ListImages implements [Registry]: one image per tag ([ListTags]), parsed
// without alias knowledge and without digest (the tag listing has none).
func (d *DockerClient) ListImages(ctx context.Context) ([]*Image, error) {
	names, err := d.ListTags(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Image, len(names))
	for i, n := range names {
		out[i] = NewImage(ParseTag(n), d.cfg.Registry, d.cfg.Repository, "")
	}
	return out, nil
}

// Digests implements [Registry]: a manifest HEAD per tag, [DefaultLookups]
// at once. A tag that does not exist fails the call (a [*transport.Error]
// with StatusCode 404), as does any other failure; the first one cancels
// the other lookups.
func (d *DockerClient) Digests(ctx context.Context, tags []string) (map[string]string, error) {
	return lookupDigests(ctx, d, tags, DefaultLookups)
}

// DeleteDigests implements [Registry]: one manifest DELETE per digest, in
// order, stopping at the first failure.
func (d *DockerClient) DeleteDigests(ctx context.Context, digests []string) error {
	for _, digest := range digests {
		if err := d.Delete(ctx, digest); err != nil {
			return fmt.Errorf("deleting %s: %w", digest, err)
		}
	}
	return nil
}

// lookupDigests looks up the digests of tags, at most n at once. The first
// failure cancels the others and is returned.
func lookupDigests(ctx context.Context, c *DockerClient, tags []string, n int) (map[string]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		out      = make(map[string]string, len(tags))
		firstErr error
		wg       sync.WaitGroup
		sem      = make(chan struct{}, n)
	)
	for _, tag := range tags {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d, err := c.Digest(ctx, tag)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("looking up digest of %q: %w", tag, err)
					cancel()
				}
				return
			}
			out[tag] = d
		}()
	}
	wg.Wait()
	return out, firstErr
}
