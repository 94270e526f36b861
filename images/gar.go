package images

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	artifactregistry "cloud.google.com/go/artifactregistry/apiv1"
	"cloud.google.com/go/artifactregistry/apiv1/artifactregistrypb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// GAR listing retries and deletion batches (spec §5.3, tools §1.12).
const (
	// DefaultGARRetryDelay is the pause after a failed listing.
	DefaultGARRetryDelay = 10 * time.Second
	// GARRetries is how many listings may fail with INTERNAL or
	// UNAVAILABLE (HTTP 500/503) before the final, unprotected attempt.
	GARRetries = 3
	// GARDeleteBatch is the most versions deleted by one call.
	GARDeleteBatch = 50
)

// GARClient reads and deletes the versions of one image in Google Artifact
// Registry. It authenticates with Application Default Credentials (workload
// identity) unless given other client options. It is safe for concurrent
// use.
type GARClient struct {
	cfg        GARConfig
	client     *artifactregistry.Client
	retryDelay time.Duration
	onRetry    func(attempt int, err error)
}

// GAROption configures a [GARClient].
type GAROption func(*garOptions)

type garOptions struct {
	client     []option.ClientOption
	retryDelay time.Duration
	onRetry    func(int, error)
}

// WithClientOptions passes options to the Artifact Registry client, for
// example option.WithEndpoint and option.WithoutAuthentication in tests.
func WithClientOptions(opts ...option.ClientOption) GAROption {
	return func(o *garOptions) { o.client = append(o.client, opts...) }
}

// WithRetryDelay sets the pause after a failed listing (default
// [DefaultGARRetryDelay]).
func WithRetryDelay(d time.Duration) GAROption {
	return func(o *garOptions) { o.retryDelay = d }
}

// WithRetryHook is called after each listing failure that will be retried,
// so that the caller can log it ("Error listing images from GAR,
// retrying").
func WithRetryHook(f func(attempt int, err error)) GAROption {
	return func(o *garOptions) { o.onRetry = f }
}

// NewGARClient connects to Artifact Registry. Close it when done.
func NewGARClient(ctx context.Context, cfg GARConfig, opts ...GAROption) (*GARClient, error) {
	o := garOptions{retryDelay: DefaultGARRetryDelay, onRetry: func(int, error) {}}
	for _, opt := range opts {
		opt(&o)
	}
	client, err := artifactregistry.NewClient(ctx, o.client...)
	if err != nil {
		return nil, fmt.Errorf("connecting to Artifact Registry: %w", err)
	}
	return &GARClient{cfg: cfg, client: client, retryDelay: o.retryDelay, onRetry: o.onRetry}, nil
}

// Close closes the connection.
func (c *GARClient) Close() error { return c.client.Close() }

// Config returns the image the client reads.
func (c *GARClient) Config() GARConfig { return c.cfg }

// ListImages returns one image per tag of the configured image (other
// images of the repository and untagged versions are skipped), with digest
// and size. Listings failing with INTERNAL or UNAVAILABLE are retried
// [GARRetries] times after the retry delay; if the result is then still
// empty (or a listing succeeded with no images) one final attempt is made
// whose error is returned.
func (c *GARClient) ListImages(ctx context.Context) ([]*Image, error) {
	var images []*Image
	for attempt := 1; attempt <= GARRetries; attempt++ {
		var err error
		images, err = c.listOnce(ctx)
		if err == nil {
			break
		}
		if !retryable(err) {
			return nil, err
		}
		c.onRetry(attempt, err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("listing GAR images: %w", ctx.Err())
		case <-time.After(c.retryDelay):
		}
	}
	if len(images) > 0 {
		return images, nil
	}
	return c.listOnce(ctx)
}

func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Internal, codes.Unavailable:
		return true
	}
	return false
}

// listOnce reads every page of the listing.
func (c *GARClient) listOnce(ctx context.Context) ([]*Image, error) {
	it := c.client.ListDockerImages(ctx, &artifactregistrypb.ListDockerImagesRequest{Parent: c.cfg.Parent()})
	var out []*Image
	for {
		di, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("listing GAR images of %s: %w", c.cfg.Parent(), err)
		}
		out = append(out, c.images(di)...)
	}
}

// images turns a GAR Docker image into one image per tag, nil for other
// images of the repository.
func (c *GARClient) images(di *artifactregistrypb.DockerImage) []*Image {
	last := di.GetUri()[strings.LastIndex(di.GetUri(), "/")+1:]
	image, digest, ok := strings.Cut(last, "@")
	if !ok || image != c.cfg.Image {
		return nil
	}
	var out []*Image
	for _, tag := range di.GetTags() {
		img := NewImage(ParseTag(tag), c.cfg.Registry(), c.cfg.Path(), digest)
		img.Size = di.GetImageSizeBytes()
		out = append(out, img)
	}
	return out
}

// Digest returns the digest of a tag of the image (GetTag: the tag's
// version is named after the digest). A missing tag is a
// [*TagNotFoundError].
func (c *GARClient) Digest(ctx context.Context, tag string) (string, error) {
	t, err := c.client.GetTag(ctx, &artifactregistrypb.GetTagRequest{Name: c.cfg.PackageParent() + "/tags/" + tag})
	if status.Code(err) == codes.NotFound {
		return "", &TagNotFoundError{Tag: tag}
	}
	if err != nil {
		return "", fmt.Errorf("reading GAR tag %q: %w", tag, err)
	}
	v := t.GetVersion()
	return v[strings.LastIndex(v, "/")+1:], nil
}

// Digests implements [Registry]: it lists the image once and returns the
// digests of the tags it has; unknown tags are left out.
func (c *GARClient) Digests(ctx context.Context, tags []string) (map[string]string, error) {
	imgs, err := c.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	byTag := make(map[string]string, len(imgs))
	for _, img := range imgs {
		byTag[img.Tag.Tag] = img.Digest
	}
	out := make(map[string]string, len(tags))
	for _, t := range tags {
		if d, ok := byTag[t]; ok {
			out[t] = d
		}
	}
	return out, nil
}

// DeleteDigests deletes the versions of the image with these digests (and
// so every tag on them), [GARDeleteBatch] per call. The long-running
// operations are not awaited.
func (c *GARClient) DeleteDigests(ctx context.Context, digests []string) error {
	parent := c.cfg.PackageParent()
	for start := 0; start < len(digests); start += GARDeleteBatch {
		end := min(start+GARDeleteBatch, len(digests))
		names := make([]string, 0, end-start)
		for _, d := range digests[start:end] {
			names = append(names, parent+"/versions/"+d)
		}
		_, err := c.client.BatchDeleteVersions(ctx, &artifactregistrypb.BatchDeleteVersionsRequest{Parent: parent, Names: names})
		if err != nil {
			return fmt.Errorf("deleting GAR versions of %s: %w", parent, err)
		}
	}
	return nil
}

var _ Registry = (*GARClient)(nil)

// GARSource is the [Source] of an image in Google Artifact Registry. Every
// version is listed with its digest, so aliases are found by digest and
// the settings' AliasTags are not used.
type GARSource struct {
	client   *GARClient
	settings Settings
}

// NewGARSource returns the source of the client's image for these settings.
func NewGARSource(client *GARClient, settings Settings) *GARSource {
	return &GARSource{client: client, settings: settings}
}

// Refresh implements [Source].
func (s *GARSource) Refresh(ctx context.Context) (*Catalog, error) {
	imgs, err := s.client.ListImages(ctx)
	if err != nil {
		return nil, err
	}
	return NewGARCatalog(s.client.Config(), s.settings, imgs), nil
}

// TagNotFoundError says that a registry has no such tag.
type TagNotFoundError struct{ Tag string }

func (e *TagNotFoundError) Error() string { return fmt.Sprintf("tag %q not found", e.Tag) }

// Digest implements [Source] and [Digester] with [GARClient.Digest].
func (s *GARSource) Digest(ctx context.Context, tag string) (string, error) {
	return s.client.Digest(ctx, tag)
}
