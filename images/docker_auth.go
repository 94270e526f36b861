package images

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// AuthError is a registry authentication failure: a 401 without
// credentials for the host, with credentials the registry rejects, without
// a challenge or with an unknown one, or a failed Bearer token request.
// Err is the underlying error, a [*transport.Error] for HTTP failures.
type AuthError struct {
	Host   string
	Reason string
	Err    error
}

func (e *AuthError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("authenticating to %s: %s: %v", e.Host, e.Reason, e.Err)
	}
	return fmt.Sprintf("authenticating to %s: %s", e.Host, e.Reason)
}

func (e *AuthError) Unwrap() error { return e.Err }

// Reasons of an [AuthError]; an unknown challenge scheme has its own,
// `unknown Docker authentication challenge "{scheme}"`.
const (
	AuthNoCredentials = "no Docker API credentials available"
	AuthRejected      = "authentication credentials rejected"
	AuthNoChallenge   = "Docker API 401 response contains no challenge"
	AuthBearerToken   = "requesting bearer token"
)

// authenticator returns the credentials of the configured registry host as
// a go-containerregistry authenticator (Basic "user:password"), anonymous
// when there are none.
func (d *DockerClient) authenticator() authn.Authenticator {
	user, pass, ok := d.creds.Lookup(d.cfg.Registry)
	if !ok {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Auth: base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))})
}

// transport returns the authenticated transport of a scope action
// (transport.PullScope or transport.DeleteScope), doing the handshake on
// first use. Concurrent callers of a scope wait for one handshake; a
// failed one is retried by the next call.
func (d *DockerClient) transport(ctx context.Context, action string) (http.RoundTripper, error) {
	lt := d.transports[action]
	lt.mu.Lock()
	defer lt.mu.Unlock()
	if lt.rt != nil {
		return lt.rt, nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	rt, err := transport.NewWithContext(ctx, d.repo.Registry, d.authenticator(), d.inner, []string{d.repo.Scope(action)})
	if err != nil {
		return nil, d.handshakeError(err)
	}
	lt.rt = rt
	return rt, nil
}

// handshakeError classifies a failed handshake: a failed ping of the
// registry's /v2/ is returned as is, anything else (the realm, the token
// request) is an [*AuthError].
func (d *DockerClient) handshakeError(err error) error {
	if u := failedURL(err); u != nil && u.Host == d.host() && u.Path == "/v2/" {
		return fmt.Errorf("pinging %s: %w", d.host(), err)
	}
	return &AuthError{Host: d.cfg.Registry, Reason: AuthBearerToken, Err: err}
}

// requestError classifies a failed round trip: a failure of a request
// outside the registry API (the token request, when a 401 made the
// transport refresh its token) is an [*AuthError].
func (d *DockerClient) requestError(err error) error {
	if u := failedURL(err); u != nil && (u.Host != d.host() || !strings.HasPrefix(u.Path, "/v2/")) {
		return &AuthError{Host: d.cfg.Registry, Reason: AuthBearerToken, Err: err}
	}
	return err
}

// failedURL returns the URL of the request that err is about, if known.
func failedURL(err error) *url.URL {
	var terr *transport.Error
	if errors.As(err, &terr) && terr.Request != nil {
		return terr.Request.URL
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if u, perr := url.Parse(uerr.URL); perr == nil {
			return u
		}
	}
	return nil
}

// authError explains a 401 that got through the transport: no
// credentials, no or an unknown challenge (when the response is known), or
// credentials rejected. cause is the [*transport.Error] of the 401.
func (d *DockerClient) authError(resp *http.Response, cause error) error {
	reason := AuthRejected
	if _, _, ok := d.creds.Lookup(d.cfg.Registry); !ok {
		reason = AuthNoCredentials
	} else if resp != nil {
		scheme, _, _ := strings.Cut(strings.TrimSpace(resp.Header.Get("WWW-Authenticate")), " ")
		switch strings.ToLower(scheme) {
		case "":
			reason = AuthNoChallenge
		case "basic", "bearer":
		default:
			reason = fmt.Sprintf("unknown Docker authentication challenge %q", scheme)
		}
	}
	return &AuthError{Host: d.cfg.Registry, Reason: reason, Err: cause}
}

// asTransportError returns the [*transport.Error] in err's chain.
func asTransportError(err error) (*transport.Error, bool) {
	var terr *transport.Error
	ok := errors.As(err, &terr)
	return terr, ok
}
