package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// Post sends msg to the incoming webhook at url and waits for the answer,
// which must be a 2xx. client nil means http.DefaultClient. The URL is a
// secret and is never part of the returned error.
func Post(ctx context.Context, client *http.Client, url string, msg Message) error {
	if client == nil {
		client = http.DefaultClient
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("encoding Slack message: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("posting Slack message: invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("posting Slack message: %w", redact(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting Slack message: status %d", resp.StatusCode)
	}
	return nil
}

// redact removes the URL, which holds the webhook's secret, from a
// transport error.
func redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}
