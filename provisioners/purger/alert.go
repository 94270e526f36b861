package purger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
)

// AlertApp is the application name in Slack alerts.
const AlertApp = "Nublado File Purger"

// maxSlackText is the longest text of one Slack block.
const maxSlackText = 2900

// PostAlert posts err to the Slack incoming webhook at hookURL. The failures
// of a *[PurgeError] or *[PlanError] are attached as "Failed Files". client
// nil means http.DefaultClient.
func PostAlert(ctx context.Context, client *http.Client, hookURL string, err error) error {
	if client == nil {
		client = http.DefaultClient
	}
	body, jerr := json.Marshal(alertMessage(err))
	if jerr != nil {
		return fmt.Errorf("encoding Slack alert: %w", jerr)
	}
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, hookURL, bytes.NewReader(body))
	if rerr != nil {
		return fmt.Errorf("posting Slack alert: %w", rerr)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, derr := client.Do(req)
	if derr != nil {
		return fmt.Errorf("posting Slack alert: %w", derr)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting Slack alert: status %d", resp.StatusCode)
	}
	return nil
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type string     `json:"type"`
	Text *slackText `json:"text,omitempty"`
}

type slackAttachment struct {
	Blocks []slackBlock `json:"blocks"`
}

type slackMessage struct {
	Text        string            `json:"text"`
	Blocks      []slackBlock      `json:"blocks"`
	Attachments []slackAttachment `json:"attachments,omitempty"`
}

func section(text string) slackBlock {
	if len(text) > maxSlackText {
		text = text[:maxSlackText] + "…"
	}
	return slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: text}}
}

// alertMessage builds the Slack message for err.
func alertMessage(err error) slackMessage {
	summary := fmt.Sprintf("Error in %s: %v", AlertApp, err)
	msg := slackMessage{Text: summary, Blocks: []slackBlock{
		section(fmt.Sprintf("*Error in %s*", AlertApp)),
		section(fmt.Sprintf("*Exception*\n```\n%v\n```", firstLine(err))),
	}}
	var files map[string]string
	var purgeErr *PurgeError
	var planErr *PlanError
	switch {
	case errors.As(err, &purgeErr):
		files = purgeErr.FailedFiles()
	case errors.As(err, &planErr):
		files = planErr.FailedFiles()
	}
	if len(files) > 0 {
		paths := make([]string, 0, len(files))
		for p := range files {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		var b strings.Builder
		for _, p := range paths {
			fmt.Fprintf(&b, "%s: %s\n", p, files[p])
		}
		msg.Attachments = []slackAttachment{{Blocks: []slackBlock{
			section("*Failed Files*\n```\n" + b.String() + "```"),
		}}}
	}
	return msg
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
