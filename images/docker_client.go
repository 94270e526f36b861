package images

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// manifestAccept is the Accept header of manifest requests (spec §5.3).
var manifestAccept = strings.Join([]string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/json;q=0.5",
}, ", ")

// DefaultDockerTimeout bounds every request of a [DockerClient], and the
// authentication handshake.
const DefaultDockerTimeout = 20 * time.Second

// maxBody is the most of a response body the client reads (a tag page of
// 100,000 tags is about 3 MB).
const maxBody = 64 << 20

// DockerClient reads and deletes the tags of one repository of a Docker
// Registry v2 (spec §5.3, tools §1.11), on go-containerregistry: the
// authentication handshake is [transport.NewWithContext] (a ping of /v2/,
// then Basic credentials on every request or a Bearer token for the
// repository scope, refreshed on a 401), deletions are [remote.Delete], and
// registry failures are [*transport.Error] values, so that callers check
// the status with errors.As(err, &terr) and terr.StatusCode. Tag listing
// and manifest HEADs are the client's own requests over the authenticated
// transport, because the spec pins what ggcr's remote.List and remote.Head
// do not do: the rel="next" Link is resolved against the page and must
// stay under the registry and never repeat ([*InvalidURLError]), a page
// without "tags" is an error, and HEAD sends the exact Accept list above.
//
// A DockerClient is safe for concurrent use. It authenticates once per
// scope (pull for listing and digests, push,pull,delete for deletions), on
// first use, and keeps the authenticated transport.
type DockerClient struct {
	cfg     DockerConfig
	repo    name.Repository
	scheme  string
	inner   http.RoundTripper
	timeout time.Duration
	creds   *DockerCredentials
	plain   bool

	// transports are the authenticated transports by scope action
	// (transport.PullScope, transport.DeleteScope); the map is not
	// modified after construction.
	transports map[string]*lazyTransport
}

// lazyTransport is an authenticated transport made on first use.
type lazyTransport struct {
	mu sync.Mutex
	rt http.RoundTripper
}

// DockerOption configures a [DockerClient].
type DockerOption func(*DockerClient)

// WithCredentials sets the credentials of the registry host (exact host or
// parent domain, see [DockerCredentials.Lookup]). Without credentials the
// client pulls anonymously (a Bearer registry may still hand out an
// anonymous token) and a 401 is an [*AuthError].
func WithCredentials(c *DockerCredentials) DockerOption {
	return func(d *DockerClient) { d.creds = c }
}

// WithTransport sets the HTTP transport under the authentication layer (for
// example an httptest TLS server's). The default is a clone of
// [http.DefaultTransport], which honours SSL_CERT_FILE and the proxy
// environment variables.
func WithTransport(rt http.RoundTripper) DockerOption {
	return func(d *DockerClient) { d.inner = rt }
}

// WithTimeout bounds each request and the authentication handshake (default
// [DefaultDockerTimeout]).
func WithTimeout(t time.Duration) DockerOption {
	return func(d *DockerClient) { d.timeout = t }
}

// WithPlainHTTP lets the client talk to the registry over plain HTTP
// (tests, local registries): go-containerregistry's insecure mode, which
// tries HTTPS first and falls back to HTTP. Registries on loopback or
// RFC 1918 addresses get that fallback without this option.
func WithPlainHTTP() DockerOption {
	return func(d *DockerClient) { d.plain = true }
}

// NewDockerClient returns a client for a repository. It fails when the
// registry is not a host[:port] or the repository is not a valid
// repository path. Nothing is sent before the first call.
func NewDockerClient(cfg DockerConfig, opts ...DockerOption) (*DockerClient, error) {
	d := &DockerClient{
		cfg:        cfg,
		scheme:     "https",
		inner:      http.DefaultTransport.(*http.Transport).Clone(),
		timeout:    DefaultDockerTimeout,
		transports: map[string]*lazyTransport{transport.PullScope: {}, transport.DeleteScope: {}},
	}
	for _, o := range opts {
		o(d)
	}
	var nameOpts []name.Option
	if d.plain {
		d.scheme = "http"
		nameOpts = append(nameOpts, name.Insecure)
	}
	invalid := fmt.Errorf("invalid Docker repository %q in registry %q", cfg.Repository, cfg.Registry)
	if cfg.Registry == "" || strings.ContainsAny(cfg.Registry, "/ ") {
		return nil, invalid
	}
	reg, err := name.NewRegistry(cfg.Registry, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", invalid, err)
	}
	// "localhost/" makes the name parser take the whole rest as the
	// repository path, whatever the registry looks like.
	if _, err := name.NewRepository("localhost/" + cfg.Repository); err != nil {
		return nil, fmt.Errorf("%w: %w", invalid, err)
	}
	d.repo = reg.Repo(cfg.Repository)
	return d, nil
}

// Config returns the repository the client talks to.
func (d *DockerClient) Config() DockerConfig { return d.cfg }

// host returns the registry host the requests go to: the configured one,
// except that go-containerregistry sends "docker.io" to "index.docker.io".
func (d *DockerClient) host() string { return d.repo.RegistryStr() }

func (d *DockerClient) base() string {
	return d.scheme + "://" + d.host() + "/v2/" + d.repo.RepositoryStr()
}

// ResponseError is a registry response that the client cannot use although
// its status is a success: a tag page that is not JSON or has no "tags", a
// manifest HEAD without a valid Docker-Content-Digest.
type ResponseError struct {
	Method string
	URL    string
	Err    error
}

func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
}

func (e *ResponseError) Unwrap() error { return e.Err }

// Digest returns the digest of a tag's manifest: a HEAD with the manifest
// Accept list, digest from Docker-Content-Digest. A missing tag is a
// [*transport.Error] with StatusCode 404.
func (d *DockerClient) Digest(ctx context.Context, tag string) (string, error) {
	u := d.base() + "/manifests/" + tag
	resp, err := d.do(ctx, http.MethodHead, u, manifestAccept)
	if err != nil {
		return "", err
	}
	digest := resp.Header.Get("Docker-Content-Digest")
	if digest == "" {
		return "", &ResponseError{Method: http.MethodHead, URL: u,
			Err: errors.New("cannot get image digest from Docker registry: no Docker-Content-Digest header")}
	}
	if _, err := v1.NewHash(digest); err != nil {
		return "", &ResponseError{Method: http.MethodHead, URL: u,
			Err: fmt.Errorf("cannot get image digest from Docker registry: Docker-Content-Digest %q: %w", digest, err)}
	}
	return digest, nil
}

// Delete deletes the manifest of a digest, hence every tag on it
// ([remote.Delete]; registries answer 202).
func (d *DockerClient) Delete(ctx context.Context, digest string) error {
	tr, err := d.transport(ctx, transport.DeleteScope)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	err = remote.Delete(d.repo.Digest(digest), remote.WithTransport(tr), remote.WithContext(ctx))
	if terr, ok := asTransportError(err); ok && terr.StatusCode == http.StatusUnauthorized {
		return d.authError(nil, err)
	}
	return d.requestError(err)
}

// do sends a request over the authenticated transport without following
// redirects and returns the response, its body read into memory. A status
// other than 200 is a [*transport.Error] (a 401 wrapped in an
// [*AuthError]).
func (d *DockerClient) do(ctx context.Context, method, u, accept string) (*http.Response, error) {
	tr, err := d.transport(ctx, transport.PullScope)
	if err != nil {
		return nil, err
	}
	client := &http.Client{
		Transport:     tr,
		Timeout:       d.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, d.requestError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, d.authError(resp, transport.CheckError(resp, http.StatusOK))
	}
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading response: %w", method, u, err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
