package startup

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// defaultInstanceURL is the EXTERNAL_INSTANCE_URL used when it is unset.
const defaultInstanceURL = "https://localhost:8888"

// discovery is the part of Repertoire's discovery document the lab needs.
type discovery struct {
	Services struct {
		UI map[string]struct {
			URL string `json:"url"`
		} `json:"ui"`
	} `json:"services"`
}

// setFireflyURL sets FIREFLY_URL to the portal's URL from Repertoire
// discovery. A failed discovery or a missing portal is logged and skipped.
func (p *preparer) setFireflyURL(ctx context.Context) {
	const msg = "Discovery of portal service failed; not setting variables"
	base := p.env["REPERTOIRE_BASE_URL"]
	if base == "" {
		instance := p.env["EXTERNAL_INSTANCE_URL"]
		if instance == "" {
			instance = defaultInstanceURL
		}
		base = strings.TrimRight(instance, "/") + "/repertoire"
	}
	url := strings.TrimRight(base, "/") + "/discovery"
	doc, err := fetchDiscovery(ctx, p.opts.HTTPClient, url)
	if err != nil {
		p.log.WithError(err).WithField("url", url).Error(msg)
		return
	}
	portal := doc.Services.UI["portal"].URL
	if portal == "" {
		p.log.WithField("url", url).Warn(msg)
		return
	}
	p.out["FIREFLY_URL"] = portal
}

// fetchDiscovery GETs and decodes the discovery document at url.
func fetchDiscovery(ctx context.Context, client *http.Client, url string) (*discovery, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %s", url, resp.Status)
	}
	var doc discovery
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding discovery document from %s: %w", url, err)
	}
	return &doc, nil
}
