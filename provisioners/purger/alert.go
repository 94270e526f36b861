package purger

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/nublado-go/nublado/internal/slack"
)

// AlertApp is the application name in Slack alerts.
const AlertApp = "Nublado File Purger"

// maxSlackText is the longest text of one Slack block.
const maxSlackText = 2900

// PostAlert posts err to the Slack incoming webhook at hookURL. The failures
// of a *[PurgeError] or *[PlanError] are attached as "Failed Files". client
// nil means http.DefaultClient.
func PostAlert(ctx context.Context, client *http.Client, hookURL string, err error) error {
	return slack.Post(ctx, client, hookURL, alertMessage(err))
}

func section(text string) slack.Block {
	if len(text) > maxSlackText {
		text = text[:maxSlackText] + "…"
	}
	return slack.Block{Type: "section", Text: slack.Mrkdwn(text, false)}
}

// alertMessage builds the Slack message for err.
func alertMessage(err error) slack.Message {
	summary := fmt.Sprintf("Error in %s: %v", AlertApp, err)
	msg := slack.Message{Text: summary, Blocks: []slack.Block{
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
		msg.Attachments = []slack.Attachment{{Blocks: []slack.Block{
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
