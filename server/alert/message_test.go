package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/slack/slacktest"
	"github.com/nublado-go/nublado/server"
	"github.com/nublado-go/nublado/server/alert"
)

var failedAt = time.Date(2024, 3, 5, 17, 4, 5, 123456789, time.FixedZone("X", 3600))

// badRequest is the API server's answer to a rejected create.
func badRequest() error {
	return apierrors.NewBadRequest("Something bad happened")
}

func TestMessage(t *testing.T) {
	svc := apply.ObjectRef{Kind: "Service", Namespace: "userlabs-rachel", Name: "lab"}
	cases := map[string]struct {
		reason string
		user   string
		err    error
		want   string
	}{
		"KubernetesError": {
			reason: "an object error names the object, its status and the API server's message",
			user:   "rachel",
			err:    fmt.Errorf("applying: %w", apply.NewObjectError("creating object", svc, badRequest())),
			want: `{"blocks":[
				{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: Error creating object (Service userlabs-rachel/lab, status 400)","verbatim":true}},
				{"type":"section","fields":[
					{"type":"mrkdwn","text":"*Exception type*\nKubernetesError","verbatim":true},
					{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.123","verbatim":true},
					{"type":"mrkdwn","text":"*User*\nrachel","verbatim":true},
					{"type":"mrkdwn","text":"*Status*\n400","verbatim":true}]},
				{"type":"section","text":{"type":"mrkdwn","text":"*Object*\nService userlabs-rachel/lab","verbatim":true}},
				{"type":"section","text":{"type":"mrkdwn","text":"*Error*\n` + "```" + `\nSomething bad happened\n` + "```" + `","verbatim":true}},
				{"type":"divider"}]}`,
		},
		"KubernetesErrorNoStatus": {
			reason: "without an API status there is no Status field, and no user without a user",
			err: apply.NewObjectError("creating object",
				apply.ObjectRef{Kind: "Pod", Namespace: "nublado", Name: "prepull-d-2077-10-23-node2"},
				errors.New("connection refused")),
			want: `{"blocks":[
				{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: Error creating object (Pod nublado/prepull-d-2077-10-23-node2)","verbatim":true}},
				{"type":"section","fields":[
					{"type":"mrkdwn","text":"*Exception type*\nKubernetesError","verbatim":true},
					{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.123","verbatim":true}]},
				{"type":"section","text":{"type":"mrkdwn","text":"*Object*\nPod nublado/prepull-d-2077-10-23-node2","verbatim":true}},
				{"type":"section","text":{"type":"mrkdwn","text":"*Error*\n` + "```" + `\nconnection refused\n` + "```" + `","verbatim":true}},
				{"type":"divider"}]}`,
		},
		"ClusterScoped": {
			reason: "a cluster-scoped object is {Kind} {name}",
			user:   "rachel",
			err: apply.NewObjectError("creating namespace", apply.ObjectRef{Kind: "Namespace", Name: "userlabs-rachel"},
				apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "userlabs-rachel", errors.New("no"))),
			want: `{"blocks":[
				{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: Error creating namespace (Namespace userlabs-rachel, status 403)","verbatim":true}},
				{"type":"section","fields":[
					{"type":"mrkdwn","text":"*Exception type*\nKubernetesError","verbatim":true},
					{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.123","verbatim":true},
					{"type":"mrkdwn","text":"*User*\nrachel","verbatim":true},
					{"type":"mrkdwn","text":"*Status*\n403","verbatim":true}]},
				{"type":"section","text":{"type":"mrkdwn","text":"*Object*\nNamespace userlabs-rachel","verbatim":true}},
				{"type":"section","text":{"type":"mrkdwn","text":"*Error*\n` + "```" + `\nnamespaces \"userlabs-rachel\" is forbidden: no\n` + "```" + `","verbatim":true}},
				{"type":"divider"}]}`,
		},
		"Plain": {
			reason: "another error's summary is its text, and its type the first non-wrapper",
			user:   "rachel",
			err:    fmt.Errorf("reading the discovery document: %w", &alert.PanicError{Value: "boom"}),
			want: `{"blocks":[
				{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: reading the discovery document: panic: boom","verbatim":true}},
				{"type":"section","fields":[
					{"type":"mrkdwn","text":"*Exception type*\nalert.PanicError","verbatim":true},
					{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.123","verbatim":true},
					{"type":"mrkdwn","text":"*User*\nrachel","verbatim":true}]},
				{"type":"divider"}]}`,
		},
		"PlainText": {
			reason: "a plain error is of type error",
			err:    errors.New("Lab spawn timed out after 600.0"),
			want: `{"blocks":[
				{"type":"section","text":{"type":"mrkdwn","text":"Error in Nublado: Lab spawn timed out after 600.0","verbatim":true}},
				{"type":"section","fields":[
					{"type":"mrkdwn","text":"*Exception type*\nerror","verbatim":true},
					{"type":"mrkdwn","text":"*Failed at*\n2024-03-05 16:04:05.123","verbatim":true}]},
				{"type":"divider"}]}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := json.Marshal(alert.Message("Nublado", tc.user, tc.err, failedAt))
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(got), "Message(%v): %s", tc.err, tc.reason)
		})
	}
}

func TestMessageLongBody(t *testing.T) {
	ref := apply.ObjectRef{Kind: "Pod", Namespace: "n", Name: "p"}
	oe := &apply.ObjectError{Op: "creating object", Object: ref, Status: 422, Message: strings.Repeat("x", 10000)}
	msg := alert.Message("Nublado", "", oe, failedAt)
	body := msg.Blocks[3].Text.Text
	assert.Len(t, []rune(body), 3000, "the Error section stays within Slack's limit")
	assert.True(t, strings.HasPrefix(body, "*Error*\n```\nxxx"))
	assert.True(t, strings.HasSuffix(body, "x…\n```"), "the code block stays closed")
}

// TestReportable pins that client errors (every code answered with a 4xx)
// are never reported, and server failures are.
func TestReportable(t *testing.T) {
	codes := []nublado.ErrorCode{
		nublado.CodeInvalidToken, nublado.CodePermissionDenied, nublado.CodeInsufficientQuota,
		nublado.CodeUnknownImage, nublado.CodeInvalidDockerReference, nublado.CodeInvalidLabSize,
		nublado.CodeLabExists, nublado.CodeOperationInProgress, nublado.CodeUnknownUser,
		nublado.CodeNotSupported, nublado.CodeNotFound, nublado.CodeInvalidPhase,
		nublado.CodeDeleteFailed, nublado.CodeFileServerCreateFailed, nublado.CodeFileServerDeleteFailed,
		nublado.CodeValueError, nublado.CodeMissingSecret,
	}
	for _, code := range codes {
		err := fmt.Errorf("wrapped: %w", &nublado.Error{Code: code, Message: "m"})
		assert.Equal(t, server.StatusOf(code) >= http.StatusInternalServerError, alert.Reportable(err),
			"Reportable(%s)", code)
	}
	for _, err := range []error{nil, nublado.ErrLabNotFound, nublado.ErrLabExists,
		fmt.Errorf("x: %w", nublado.ErrOperationInProgress)} {
		assert.False(t, alert.Reportable(err), "Reportable(%v)", err)
	}
	assert.True(t, alert.Reportable(errors.New("boom")))
	ref := apply.ObjectRef{Kind: "Pod", Namespace: "n", Name: "p"}
	assert.True(t, alert.Reportable(apply.NewObjectError("creating object", ref, badRequest())),
		"a Kubernetes 4xx is the controller's failure, not a client's")
}

func TestReporter(t *testing.T) {
	rcv := slacktest.NewReceiver(t)
	r := alert.New("Nublado", rcv.URL(), logrus.NewEntry(logrus.New()),
		alert.WithClock(func() time.Time { return failedAt }))
	r.Report("rachel", errors.New("boom"))
	r.Report("rachel", &nublado.Error{Code: nublado.CodeLabExists, Message: "Lab already exists for rachel"})
	r.Report("", nil)
	require.NoError(t, r.Close(context.Background()))
	require.Len(t, rcv.Bodies(), 1, "one report; client errors and nil are not reported")
	want, err := json.Marshal(alert.Message("Nublado", "rachel", errors.New("boom"), failedAt))
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(rcv.Bodies()[0]))

	off := alert.New("Nublado", "", logrus.NewEntry(logrus.New()))
	off.Report("rachel", errors.New("boom"))
	require.NoError(t, off.Close(context.Background()))
	var none *alert.Reporter
	none.Report("rachel", errors.New("boom"))
	require.NoError(t, none.Close(context.Background()))
}
