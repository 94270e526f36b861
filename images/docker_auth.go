package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// AuthError is a registry authentication failure: no credentials for the
// host, a 401 without a challenge, an unknown challenge, a failed token
// request, or credentials rejected.
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

// do sends a request with the cached Authorization header; on a 401 it
// authenticates from the challenge and retries once. A 401 right after
// authenticating means the credentials were rejected.
func (d *DockerClient) do(ctx context.Context, method, u, accept string) (*http.Response, error) {
	sent := d.authHeader()
	resp, err := d.send(ctx, method, u, accept, sent)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	challenge := resp.Header.Get("WWW-Authenticate")
	drain(resp)
	header, err := d.authenticate(ctx, sent, challenge)
	if err != nil {
		return nil, err
	}
	resp, err = d.send(ctx, method, u, accept, header)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	drain(resp)
	return nil, &AuthError{Host: d.cfg.Registry, Reason: "authentication credentials rejected"}
}

func (d *DockerClient) send(ctx context.Context, method, u, accept, auth string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, &RegistryError{Method: method, URL: u, Err: err}
	}
	req.Header.Set("Accept", accept)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, &RegistryError{Method: method, URL: u, Err: err}
	}
	return resp, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

func (d *DockerClient) authHeader() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.auth
}

// authenticate answers a 401 challenge and caches the new Authorization
// header. When another request already replaced the header that got the
// 401 (sent), that one is used instead.
func (d *DockerClient) authenticate(ctx context.Context, sent, challenge string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.auth != sent {
		return d.auth, nil
	}
	host := d.cfg.Registry
	user, pass, ok := d.creds.Lookup(host)
	if !ok {
		return "", &AuthError{Host: host, Reason: "no Docker API credentials available"}
	}
	if challenge == "" {
		return "", &AuthError{Host: host, Reason: "Docker API 401 response contains no challenge"}
	}
	scheme, params, _ := strings.Cut(strings.TrimSpace(challenge), " ")
	switch strings.ToLower(scheme) {
	case "basic":
		d.auth = basicAuth(user, pass)
	case "bearer":
		token, err := d.bearerToken(ctx, params, user, pass)
		if err != nil {
			return "", &AuthError{Host: host, Reason: "requesting bearer token", Err: err}
		}
		d.auth = "Bearer " + token
	default:
		return "", &AuthError{Host: host, Reason: fmt.Sprintf("unknown Docker authentication challenge %q", scheme)}
	}
	return d.auth, nil
}

// bearerToken requests a token from the challenge's realm with Basic auth,
// passing every challenge parameter (realm included) as the query.
func (d *DockerClient) bearerToken(ctx context.Context, params, user, pass string) (string, error) {
	values := url.Values{}
	for _, p := range strings.Split(params, ",") {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		values.Set(strings.TrimSpace(k), strings.ReplaceAll(strings.TrimSpace(v), `"`, ""))
	}
	realm, err := url.Parse(values.Get("realm"))
	if err != nil || realm.Scheme == "" || realm.Host == "" {
		return "", fmt.Errorf("invalid realm %q", values.Get("realm"))
	}
	q := realm.Query()
	for k, vs := range values {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	realm.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, realm.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(user, pass)
	resp, err := d.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return "", err
	}
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", fmt.Errorf("decoding token response: %w", err)
	}
	if body.Token == "" {
		body.Token = body.AccessToken
	}
	if body.Token == "" {
		return "", errors.New("no token in token response")
	}
	return body.Token, nil
}
