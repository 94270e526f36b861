package prepuller_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/prepuller"
)

// TestPullerCreateErrorAlert: a Kubernetes error creating a prepull pod
// sends one Slack message naming the pod, with no User field; the
// successful prepulls send none.
func TestPullerCreateErrorAlert(t *testing.T) {
	rcv := slacktest.NewReceiver(t)
	r := alert.New("Nublado", rcv.URL(), logrus.NewEntry(logrus.New()),
		alert.WithClock(func() time.Time { return time.Date(2077, 10, 23, 12, 0, 0, 0, time.UTC) }))
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	e, reg := dockerPuller(t, "alert", prepuller.WithPullerReporter(r))
	addNodes(t, selected("alert-a", "alert", reg.cached("r22_0_0", "w_2077_43")))
	e.refresh(nil)
	e.proxy.rule("prepull-w-2077-44-alert-a", &podRule{fail: 1})

	res := e.round()
	assert.Equal(t, prepuller.RoundResult{Nodes: 1, Pods: 1, Succeeded: 1, Failed: 1, Duration: res.Duration}, res)
	require.NoError(t, r.Close(context.Background()))
	bodies := rcv.Bodies()
	require.Len(t, bodies, 1, "one Slack message per failed prepull")
	pod := "Pod " + e.ns + "/prepull-w-2077-44-alert-a"
	assert.JSONEq(t, `{"blocks":[
		{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: Error creating object (`+pod+`, status 400)","verbatim":true}},
		{"type":"section","fields":[
			{"type":"mrkdwn","text":"*Exception type*\nKubernetesError","verbatim":true},
			{"type":"mrkdwn","text":"*Failed at*\n2077-10-23 12:00:00.000","verbatim":true},
			{"type":"mrkdwn","text":"*Status*\n400","verbatim":true}]},
		{"type":"section","text":{"type":"mrkdwn","text":"*Object*\n`+pod+`","verbatim":true}},
		{"type":"section","text":{"type":"mrkdwn","text":"*Error*\n`+"```"+`\nSomething bad happened\n`+"```"+`","verbatim":true}},
		{"type":"divider"}]}`, string(bodies[0]))
	e.requireNoPods()
}

// reports records what a Reporter is given.
type reports struct {
	mu   sync.Mutex
	errs []error
}

func (r *reports) Report(user string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Errorf("%q: %w", user, err))
}

func (r *reports) get() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

// TestReporting: a background loop's failures are reported without a
// user, successes and failures caused by the end of the loop are not.
func TestReporting(t *testing.T) {
	rep := &reports{}
	errBoom := errors.New("boom")
	var n int
	fn := prepuller.Reporting(rep, func(ctx context.Context) error {
		n++
		if n == 2 {
			return nil
		}
		return errBoom
	})
	require.ErrorIs(t, fn(context.Background()), errBoom)
	require.NoError(t, fn(context.Background()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, fn(ctx), errBoom, "the error is still returned")
	got := rep.get()
	require.Len(t, got, 1)
	assert.ErrorIs(t, got[0], errBoom)
	assert.Equal(t, `"": boom`, got[0].Error())
}
