package gafaelfawr

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	nublado "github.com/nublado-go/nublado"
)

// Defaults of a [Client].
const (
	DefaultTimeout   = 20 * time.Second
	DefaultCacheTTL  = 5 * time.Minute
	DefaultCacheSize = 1000
)

// maxBody bounds the size of a discovery or user-info answer.
const maxBody = 4 << 20

// ErrInvalidToken is returned by [Client.UserInfo] when Gafaelfawr rejects
// the token (HTTP 401 or 403).
var ErrInvalidToken = errors.New("user token is invalid")

// HTTPError is an unexpected HTTP status from Repertoire or Gafaelfawr.
type HTTPError struct {
	// URL is the URL requested.
	URL string
	// Status is the HTTP status code received.
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: status %d", e.URL, e.Status)
}

// Client talks to Repertoire and Gafaelfawr. It is safe for concurrent use.
type Client struct {
	repertoire string
	http       *http.Client
	now        func() time.Time

	discoveryMu sync.Mutex
	discovery   []byte
	userInfoURL string

	cache *cache
}

// Option configures a [Client].
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: a client with
// DefaultTimeout). The client's Timeout bounds each request.
func WithHTTPClient(c *http.Client) Option { return func(cl *Client) { cl.http = c } }

// WithTimeout sets the timeout of each request (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return func(cl *Client) {
		c := *cl.http
		c.Timeout = d
		cl.http = &c
	}
}

// WithCache sets the lifetime and the maximum number of cached user-info
// answers (defaults DefaultCacheTTL, DefaultCacheSize).
func WithCache(ttl time.Duration, size int) Option {
	return func(cl *Client) { cl.cache = newCache(ttl, size) }
}

// WithClock replaces time.Now for cache expiry.
func WithClock(now func() time.Time) Option { return func(cl *Client) { cl.now = now } }

// New returns a client for the Repertoire instance at repertoireURL (the
// REPERTOIRE_BASE_URL environment variable, e.g.
// https://example.com/repertoire). An empty URL is reported by the first
// call that needs discovery.
func New(repertoireURL string, opts ...Option) *Client {
	c := &Client{
		repertoire: strings.TrimSuffix(repertoireURL, "/"),
		http:       &http.Client{Timeout: DefaultTimeout},
		now:        time.Now,
		cache:      newCache(DefaultCacheTTL, DefaultCacheSize),
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Discovery returns the Repertoire discovery document as received (JSON).
// The first successful answer is cached for the life of the client;
// failures are not cached. The returned bytes must not be modified.
func (c *Client) Discovery(ctx context.Context) ([]byte, error) {
	doc, _, err := c.discover(ctx)
	return doc, err
}

func (c *Client) discover(ctx context.Context) ([]byte, string, error) {
	c.discoveryMu.Lock()
	defer c.discoveryMu.Unlock()
	if c.discovery != nil {
		return c.discovery, c.userInfoURL, nil
	}
	if c.repertoire == "" {
		return nil, "", errors.New("service discovery: REPERTOIRE_BASE_URL is not set")
	}
	doc, err := c.get(ctx, c.repertoire+"/discovery", "")
	if err != nil {
		return nil, "", fmt.Errorf("service discovery: %w", err)
	}
	base, err := gafaelfawrURL(doc)
	if err != nil {
		return nil, "", fmt.Errorf("service discovery: %w", err)
	}
	c.discovery, c.userInfoURL = doc, strings.TrimSuffix(base, "/")+"/user-info"
	return c.discovery, c.userInfoURL, nil
}

// gafaelfawrURL reads services.internal.gafaelfawr.versions.v1.url.
func gafaelfawrURL(doc []byte) (string, error) {
	var d struct {
		Services struct {
			Internal map[string]struct {
				Versions map[string]struct {
					URL string `json:"url"`
				} `json:"versions"`
			} `json:"internal"`
		} `json:"services"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return "", fmt.Errorf("decoding discovery document: %w", err)
	}
	u := d.Services.Internal["gafaelfawr"].Versions["v1"].URL
	if u == "" {
		return "", errors.New("discovery document has no services.internal.gafaelfawr.versions.v1.url")
	}
	return u, nil
}

// UserInfo returns the user that token belongs to, from the cache when a
// fresh answer is there. It returns an error wrapping [ErrInvalidToken]
// when Gafaelfawr rejects the token. The returned User is shared with the
// cache and must not be modified.
func (c *Client) UserInfo(ctx context.Context, token string) (*nublado.User, error) {
	key := sha256.Sum256([]byte(token))
	now := c.now()
	if u := c.cache.get(key, now); u != nil {
		return u, nil
	}
	_, url, err := c.discover(ctx)
	if err != nil {
		return nil, err
	}
	body, err := c.get(ctx, url, token)
	if err != nil {
		var herr *HTTPError
		if errors.As(err, &herr) && (herr.Status == http.StatusUnauthorized || herr.Status == http.StatusForbidden) {
			return nil, fmt.Errorf("user info: %w", ErrInvalidToken)
		}
		return nil, fmt.Errorf("user info: %w", err)
	}
	u, err := decodeUser(body)
	if err != nil {
		return nil, fmt.Errorf("user info: %w", err)
	}
	c.cache.put(key, u, c.now())
	return u, nil
}

// get fetches url, with the token as bearer when set, and returns the body
// of a 200 answer.
func (c *Client) get(ctx context.Context, url, token string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading body: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &HTTPError{URL: url, Status: resp.StatusCode}
	}
	return body, nil
}

// userJSON is Gafaelfawr's user-info answer. quota.notebook.spawn defaults
// to true when absent.
type userJSON struct {
	Username string          `json:"username"`
	Name     *string         `json:"name"`
	Email    *string         `json:"email"`
	UID      *int64          `json:"uid"`
	GID      *int64          `json:"gid"`
	Groups   []nublado.Group `json:"groups"`
	Quota    *struct {
		Notebook *struct {
			CPU    float64 `json:"cpu"`
			Memory float64 `json:"memory"`
			Spawn  *bool   `json:"spawn"`
		} `json:"notebook"`
	} `json:"quota"`
}

func decodeUser(body []byte) (*nublado.User, error) {
	var j userJSON
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("decoding user info: %w", err)
	}
	if j.Username == "" {
		return nil, errors.New("decoding user info: no username")
	}
	u := &nublado.User{
		Username: j.Username, Name: j.Name, Email: j.Email,
		UID: j.UID, GID: j.GID, Groups: j.Groups,
	}
	if u.Groups == nil {
		u.Groups = []nublado.Group{}
	}
	if j.Quota != nil {
		u.Quota = &nublado.Quota{}
		if nb := j.Quota.Notebook; nb != nil {
			spawn := nb.Spawn == nil || *nb.Spawn
			u.Quota.Notebook = &nublado.NotebookQuota{CPU: nb.CPU, Memory: nb.Memory, Spawn: spawn}
		}
	}
	return u, nil
}
