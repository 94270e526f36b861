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
)

// InvalidURLError is a tag-list page URL that the client refuses to
// follow: one on another host, or one already fetched (a loop).
type InvalidURLError struct {
	Reason string // "Docker Link URL not relative to {registry}" or "Repeated tag page URL"
	URL    string
}

func (e *InvalidURLError) Error() string { return e.Reason + ": " + e.URL }

// ListTags returns every tag of the repository, sorted, following
// `Link: <…>; rel="next"` pages. A next link is resolved against the page
// URL and must stay under the registry and not repeat
// ([*InvalidURLError]).
func (d *DockerClient) ListTags(ctx context.Context) ([]string, error) {
	page := d.base() + "/tags/list"
	prefix := d.scheme + "://" + d.host() + "/"
	seen := map[string]bool{page: true}
	tags := make(map[string]struct{})
	for {
		next, err := d.listPage(ctx, page, tags)
		if err != nil {
			return nil, err
		}
		if next == "" {
			return slices.Sorted(maps.Keys(tags)), nil
		}
		if !strings.HasPrefix(next, prefix) {
			return nil, &InvalidURLError{Reason: "Docker Link URL not relative to " + d.host(), URL: next}
		}
		if seen[next] {
			return nil, &InvalidURLError{Reason: "Repeated tag page URL", URL: next}
		}
		seen[next] = true
		page = next
	}
}

// listPage fetches one page into tags and returns the resolved next URL.
func (d *DockerClient) listPage(ctx context.Context, page string, tags map[string]struct{}) (string, error) {
	resp, err := d.do(ctx, http.MethodGet, page, "application/json")
	if err != nil {
		return "", err
	}
	raw, _ := io.ReadAll(resp.Body) // in memory
	var body struct {
		Tags *[]string `json:"tags"`
	}
	err = json.Unmarshal(raw, &body)
	if err == nil && !hasKey(raw, "tags") {
		err = errors.New(`no "tags" in response`)
	}
	if err != nil {
		return "", &ResponseError{Method: http.MethodGet, URL: page,
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
