package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// spawnerPath is the prefix of the spawner routes.
const spawnerPath = "/nublado/spawner/v1"

// Client calls the spawner API of a controller as the ingress and
// JupyterHub's spawner do: the user and token headers of the ingress (the
// development stack's Gafaelfawr stand-in takes the username as token).
type Client struct {
	// Base is the controller's base URL (http://127.0.0.1:port).
	Base string
	// HTTP is the client used; it must allow as many connections per host
	// as there are concurrent users.
	HTTP *http.Client
}

// NewClient returns a Client for base with a transport that keeps up to
// conns connections open.
func NewClient(base string, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conns, conns
	return &Client{Base: base, HTTP: &http.Client{Transport: tr}}
}

// StatusError is an answer with an unexpected status code.
type StatusError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.URL, e.Status, e.Body)
}

// do sends a request as user and checks the status code.
func (c *Client) do(ctx context.Context, method, path, user, body string, want int) (*http.Response, error) {
	url := c.Base + spawnerPath + path
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Auth-Request-User", user)
	req.Header.Set("X-Auth-Request-Token", user)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if resp.StatusCode != want {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &StatusError{Method: method, URL: url, Status: resp.StatusCode, Body: string(b)}
	}
	return resp, nil
}

// Create asks for user's lab (the recommended image, size small) and
// returns once the controller answered 201.
func (c *Client) Create(ctx context.Context, user string) error {
	body := fmt.Sprintf(`{"options": {"image_class": "recommended", "size": "small"}, `+
		`"env": {"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/%s/"}}`, user)
	resp, err := c.do(ctx, http.MethodPost, "/labs/"+user+"/create", user, body, http.StatusCreated)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Event is one Server-Sent Event of a lab's event stream.
type Event struct {
	Type     string // info, progress, complete, error, failed
	Message  string
	Progress int
}

// SpawnFailedError is a spawn whose event stream ended without complete.
type SpawnFailedError struct {
	User string
	// Last is the stream's last event (zero when it had none).
	Last Event
	// Message is the message of its error event, if any.
	Message string
}

func (e *SpawnFailedError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("spawn of %s failed: %s", e.User, e.Message)
	}
	return fmt.Sprintf("spawn of %s ended with %s %q", e.User, e.Last.Type, e.Last.Message)
}

// createdProgress is the progress of the event "Created Kubernetes objects
// for user lab" that ends the apply.
const createdProgress = 30

// SpawnTimes are the moments of a spawn that its event stream shows.
type SpawnTimes struct {
	// Created is when the event that the lab's objects were created
	// (progress 30) arrived; Complete when the complete event did.
	Created, Complete time.Time
}

// WaitSpawn follows user's event stream until it ends and returns when
// the objects were created and the complete event arrived, or a
// *SpawnFailedError.
func (c *Client) WaitSpawn(ctx context.Context, user string) (times SpawnTimes, err error) {
	resp, err := c.do(ctx, http.MethodGet, "/labs/"+user+"/events", user, "", http.StatusOK)
	if err != nil {
		return times, err
	}
	defer resp.Body.Close()
	failed := &SpawnFailedError{User: user}
	err = readEvents(resp.Body, func(ev Event) bool {
		failed.Last = ev
		switch ev.Type {
		case "info":
			if ev.Progress == createdProgress && times.Created.IsZero() {
				times.Created = time.Now()
			}
		case "complete":
			times.Complete = time.Now()
			return false
		case "error":
			failed.Message = ev.Message
		case "failed":
			return false
		}
		return true
	})
	switch {
	case err != nil:
		return SpawnTimes{}, fmt.Errorf("reading the events of %s: %w", user, err)
	case times.Complete.IsZero():
		return SpawnTimes{}, failed
	}
	return times, nil
}

// readEvents parses an event stream and calls fn for each event until fn
// returns false or the stream ends.
func readEvents(r io.Reader, fn func(Event) bool) error {
	sc := bufio.NewScanner(r)
	var typ, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" && typ != "":
			var body struct {
				Message  string `json:"message"`
				Progress int    `json:"progress"`
			}
			if err := json.Unmarshal([]byte(data), &body); err != nil {
				return fmt.Errorf("event %s: %w", typ, err)
			}
			if !fn(Event{Type: typ, Message: body.Message, Progress: body.Progress}) {
				return nil
			}
			typ, data = "", ""
		case strings.HasPrefix(line, "event: "):
			typ = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
	return sc.Err()
}

// Status returns the status field of user's lab.
func (c *Client) Status(ctx context.Context, user string) (string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/labs/"+user, user, "", http.StatusOK)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var state struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&state); err != nil {
		return "", fmt.Errorf("decoding the status of %s: %w", user, err)
	}
	return state.Status, nil
}

// Delete deletes user's lab; the controller answers 204 once it is gone.
func (c *Client) Delete(ctx context.Context, user string) error {
	resp, err := c.do(ctx, http.MethodDelete, "/labs/"+user, user, "", http.StatusNoContent)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Labs returns the users with labs.
func (c *Client) Labs(ctx context.Context) ([]string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/labs", "", "", http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var users []string
	if err := json.NewDecoder(resp.Body).Decode(&users); err != nil {
		return nil, fmt.Errorf("decoding the lab list: %w", err)
	}
	return users, nil
}

// Prepulls returns the body of the prepuller status.
func (c *Client) Prepulls(ctx context.Context) (string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/prepulls", "", "", http.StatusOK)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
