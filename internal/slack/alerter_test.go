package slack_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/slack"
	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/internal/testkit"
)

func testLog() (*logrus.Entry, *testkit.SyncBuffer) {
	buf := &testkit.SyncBuffer{}
	l := logrus.New()
	l.SetOutput(buf)
	return logrus.NewEntry(l), buf
}

func msg(text string) slack.Message {
	return slack.Message{Blocks: []slack.Block{slack.Section(text, true), slack.Divider()}}
}

func TestPostBody(t *testing.T) {
	rcv := slacktest.NewReceiver(t)
	m := slack.Message{Blocks: []slack.Block{
		slack.Section("Error in Nublado: boom", true),
		slack.Fields(slack.Field("User", "rachel")),
		slack.Divider(),
	}}
	require.NoError(t, slack.Post(context.Background(), nil, rcv.URL(), m))
	require.Len(t, rcv.Bodies(), 1)
	assert.JSONEq(t, `{"blocks":[
		{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: boom","verbatim":true}},
		{"type":"section","fields":[{"type":"mrkdwn","text":"*User*\nrachel","verbatim":true}]},
		{"type":"divider"}]}`, string(rcv.Bodies()[0]))
}

func TestPostErrorHidesURL(t *testing.T) {
	rcv := slacktest.NewReceiver(t)
	rcv.SetStatus(http.StatusForbidden)
	err := slack.Post(context.Background(), nil, rcv.URL(), msg("x"))
	require.EqualError(t, err, "posting Slack message: status 403")

	err = slack.Post(context.Background(), nil, "http://127.0.0.1:1/services/secret", msg("x"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

func TestTruncate(t *testing.T) {
	cases := map[string]struct {
		in   string
		n    int
		want string
	}{
		"Short":     {"abc", 3, "abc"},
		"Cut":       {"abcdef", 4, "abc…"},
		"Runes":     {"ééééé", 3, "éé…"},
		"EmptyLong": {"", 1, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, slack.Truncate(tc.in, tc.n), "Truncate(%q, %d)", tc.in, tc.n)
		})
	}
	long := slack.Section(string(bytes.Repeat([]byte("x"), 5000)), true)
	assert.Len(t, []rune(long.Text.Text), slack.MaxSectionText)
	field := slack.Field("Error", string(bytes.Repeat([]byte("y"), 5000)))
	assert.Len(t, []rune(field.Text), slack.MaxFieldText)
}

func TestAlerterPostsInOrder(t *testing.T) {
	rcv := slacktest.NewReceiver(t)
	log, _ := testLog()
	a := slack.NewAlerter(rcv.URL(), log)
	require.True(t, a.Enabled())
	for _, s := range []string{"one", "two", "three"} {
		require.True(t, a.Send(msg(s)), "Send(%q)", s)
	}
	require.NoError(t, a.Close(context.Background()))
	msgs := rcv.Messages(t)
	require.Len(t, msgs, 3)
	for i, s := range []string{"one", "two", "three"} {
		text := msgs[i]["blocks"].([]any)[0].(map[string]any)["text"].(map[string]any)["text"]
		assert.Equal(t, s, text)
	}
	assert.False(t, a.Send(msg("late")), "Send after Close")
}

func TestAlerterOff(t *testing.T) {
	log, buf := testLog()
	a := slack.NewAlerter("", log)
	assert.False(t, a.Enabled())
	assert.False(t, a.Send(msg("x")))
	require.NoError(t, a.Close(context.Background()))
	assert.Empty(t, buf.String())

	var nilAlerter *slack.Alerter
	assert.False(t, nilAlerter.Send(msg("x")))
	require.NoError(t, nilAlerter.Close(context.Background()))
}

// blockingWebhook answers only when released, so that posts pile up.
func blockingWebhook(t *testing.T) (url string, release func()) {
	gate := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-gate:
		case <-r.Context().Done():
		}
	}))
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(release)
	return srv, release
}

func TestAlerterNeverBlocks(t *testing.T) {
	url, release := blockingWebhook(t)
	log, buf := testLog()
	a := slack.NewAlerter(url, log, slack.WithQueueSize(2))
	start := time.Now()
	sent := 0
	for range 10 {
		if a.Send(msg("x")) {
			sent++
		}
	}
	assert.Less(t, time.Since(start), time.Second, "Send must not wait for Slack")
	// One post in flight at most, two queued.
	assert.LessOrEqual(t, sent, 3)
	assert.GreaterOrEqual(t, sent, 2)
	assert.Contains(t, buf.String(), "Slack alert queue is full")
	release()
	require.NoError(t, a.Close(context.Background()))
}

func TestAlerterCloseDeadline(t *testing.T) {
	url, _ := blockingWebhook(t)
	log, _ := testLog()
	a := slack.NewAlerter(url, log, slack.WithPostTimeout(time.Minute))
	require.True(t, a.Send(msg("x")))
	require.True(t, a.Send(msg("y")))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, a.Close(ctx), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second, "Close abandons the post in flight")
}

func TestAlerterPostTimeout(t *testing.T) {
	url, _ := blockingWebhook(t)
	log, buf := testLog()
	a := slack.NewAlerter(url, log, slack.WithPostTimeout(50*time.Millisecond))
	require.True(t, a.Send(msg("x")))
	require.NoError(t, a.Close(context.Background()))
	assert.Contains(t, buf.String(), "Cannot post alert to Slack")
	assert.NotContains(t, buf.String(), "127.0.0.1", "the webhook URL is a secret")
}
