package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// manifestAccept is the Accept header of manifest requests (spec §5.3).
var manifestAccept = strings.Join([]string{
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.oci.image.index.v1+json",
	"application/json;q=0.5",
}, ", ")

// DefaultDockerTimeout bounds every request of a [DockerClient].
const DefaultDockerTimeout = 20 * time.Second

// DockerClient speaks the Docker Registry v2 API for one repository: tag
// listing with Link pagination, manifest digests and deletion, with Basic
// or Bearer authentication on demand (spec §5.3, tools §1.11). It is safe
// for concurrent use; the Authorization header is cached.
//
// go-containerregistry's remote and transport packages are not used for
// the protocol itself because the spec pins behaviour they do not have:
// authentication only after a 401 on the real request (no /v2/ ping), the
// Bearer token request carrying exactly the challenge parameters, Link
// headers parsed with their rel, and repeated or foreign page URLs
// rejected.
type DockerClient struct {
	cfg    DockerConfig
	scheme string
	http   *http.Client
	creds  *DockerCredentials

	mu   sync.Mutex
	auth string // cached Authorization header value
}

// DockerOption configures a [DockerClient].
type DockerOption func(*DockerClient)

// WithCredentials sets the credentials used when the registry asks for
// them. Without credentials a 401 is an error.
func WithCredentials(c *DockerCredentials) DockerOption {
	return func(d *DockerClient) { d.creds = c }
}

// WithTransport sets the HTTP transport (for example an httptest TLS
// server's). The default is a clone of [http.DefaultTransport], which
// honours SSL_CERT_FILE and the proxy environment variables.
func WithTransport(rt http.RoundTripper) DockerOption {
	return func(d *DockerClient) { d.http.Transport = rt }
}

// WithTimeout bounds each request (default [DefaultDockerTimeout]).
func WithTimeout(t time.Duration) DockerOption {
	return func(d *DockerClient) { d.http.Timeout = t }
}

// WithPlainHTTP talks to the registry over plain HTTP instead of HTTPS
// (tests, local registries).
func WithPlainHTTP() DockerOption {
	return func(d *DockerClient) { d.scheme = "http" }
}

// NewDockerClient returns a client for a repository. It fails when the
// registry or repository is empty or the registry is not a host[:port].
func NewDockerClient(cfg DockerConfig, opts ...DockerOption) (*DockerClient, error) {
	if cfg.Registry == "" || cfg.Repository == "" || strings.ContainsAny(cfg.Registry, "/ ") {
		return nil, fmt.Errorf("invalid Docker repository %q in registry %q", cfg.Repository, cfg.Registry)
	}
	d := &DockerClient{
		cfg:    cfg,
		scheme: "https",
		http: &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			Timeout:       DefaultDockerTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	for _, o := range opts {
		o(d)
	}
	return d, nil
}

// Config returns the repository the client talks to.
func (d *DockerClient) Config() DockerConfig { return d.cfg }

// RegistryError is a failed request to a Docker registry.
type RegistryError struct {
	Method string
	URL    string
	// Status is the HTTP status, 0 when the request got no response.
	Status int
	// Body is the start of the response body.
	Body string
	// Err is the transport or decoding error, if any.
	Err error
}

func (e *RegistryError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s %s: %v", e.Method, e.URL, e.Err)
	case e.Body != "":
		return fmt.Sprintf("status %d from %s %s: %s", e.Status, e.Method, e.URL, e.Body)
	}
	return fmt.Sprintf("status %d from %s %s", e.Status, e.Method, e.URL)
}

func (e *RegistryError) Unwrap() error { return e.Err }

// InvalidURLError is a tag-list page URL that the client refuses to
// follow: one on another host, or one already fetched (a loop).
type InvalidURLError struct {
	Reason string // "Docker Link URL not relative to {registry}" or "Repeated tag page URL"
	URL    string
}

func (e *InvalidURLError) Error() string { return e.Reason + ": " + e.URL }

func (d *DockerClient) base() string {
	return d.scheme + "://" + d.cfg.Registry + "/v2/" + d.cfg.Repository
}

// ListTags returns every tag of the repository, sorted, following
// `Link: <…>; rel="next"` pages. A next link is resolved against the page
// URL and must stay on the registry and not repeat ([*InvalidURLError]).
func (d *DockerClient) ListTags(ctx context.Context) ([]string, error) {
	page := d.base() + "/tags/list"
	seen := map[string]bool{page: true}
	tags := make(map[string]struct{})
	for page != "" {
		next, err := d.listPage(ctx, page, tags)
		if err != nil {
			return nil, err
		}
		if next == "" {
			break
		}
		if !strings.HasPrefix(next, d.scheme+"://"+d.cfg.Registry+"/") {
			return nil, &InvalidURLError{Reason: "Docker Link URL not relative to " + d.cfg.Registry, URL: next}
		}
		if seen[next] {
			return nil, &InvalidURLError{Reason: "Repeated tag page URL", URL: next}
		}
		seen[next] = true
		page = next
	}
	return slices.Sorted(maps.Keys(tags)), nil
}

// listPage fetches one page into tags and returns the resolved next URL.
func (d *DockerClient) listPage(ctx context.Context, page string, tags map[string]struct{}) (string, error) {
	resp, err := d.do(ctx, http.MethodGet, page, "application/json")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return "", err
	}
	var body struct {
		Tags *[]string `json:"tags"`
	}
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err == nil && !hasKey(raw, "tags") {
		err = errors.New(`no "tags" in response`)
	}
	if err != nil {
		return "", &RegistryError{Method: http.MethodGet, URL: page, Status: resp.StatusCode,
			Err: fmt.Errorf("cannot parse response from Docker registry: %w", err)}
	}
	if body.Tags != nil {
		for _, t := range *body.Tags {
			tags[t] = struct{}{}
		}
	}
	link := nextLink(resp.Header.Values("Link"))
	if link == "" {
		return "", nil
	}
	base, _ := url.Parse(page) // page is a URL we built or validated
	ref, err := url.Parse(link)
	if err != nil {
		return "", &InvalidURLError{Reason: "Invalid Docker Link URL", URL: link}
	}
	return base.ResolveReference(ref).String(), nil
}

// hasKey reports whether a JSON object has a key.
func hasKey(raw []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// nextLink returns the target of the rel="next" link of Link headers (RFC
// 8288 elements split on ","; rel quoted or not).
func nextLink(headers []string) string {
	for _, h := range headers {
		for _, elem := range strings.Split(h, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(elem), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "rel") && slices.Contains(strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)), "next") {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

// Digest returns the digest of a tag's manifest (HEAD, from
// Docker-Content-Digest).
func (d *DockerClient) Digest(ctx context.Context, tag string) (string, error) {
	u := d.base() + "/manifests/" + tag
	resp, err := d.do(ctx, http.MethodHead, u, manifestAccept)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return "", err
	}
	digest := resp.Header.Get("Docker-Content-Digest")
	if digest == "" {
		return "", &RegistryError{Method: http.MethodHead, URL: u, Status: resp.StatusCode,
			Err: errors.New("cannot get image digest from Docker registry: no Docker-Content-Digest header")}
	}
	return digest, nil
}

// Delete deletes the manifest of a digest, hence every tag on it.
func (d *DockerClient) Delete(ctx context.Context, digest string) error {
	resp, err := d.do(ctx, http.MethodDelete, d.base()+"/manifests/"+digest, manifestAccept)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return checkStatus(resp)
}

// checkStatus turns a non-2xx response into a [*RegistryError].
func checkStatus(resp *http.Response) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return &RegistryError{Method: resp.Request.Method, URL: resp.Request.URL.String(), Status: resp.StatusCode,
		Body: strings.TrimSpace(string(body))}
}
