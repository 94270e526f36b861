package alert

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/nublado-go/nublado/internal/slack"
)

// Reporter reports errors to a Slack webhook in the background. A nil
// *Reporter, and one without a webhook, report nothing. Its methods are
// safe for concurrent use.
type Reporter struct {
	app     string
	alerter *slack.Alerter
	now     func() time.Time
}

// Option configures a [Reporter].
type Option func(*options)

type options struct {
	now     func() time.Time
	alerter []slack.AlerterOption
}

// WithClock sets the clock of the "Failed at" field. Default: time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithAlerterOptions configures the underlying [slack.Alerter] (queue
// size, post timeout, HTTP client).
func WithAlerterOptions(opts ...slack.AlerterOption) Option {
	return func(o *options) { o.alerter = append(o.alerter, opts...) }
}

// New returns a reporter naming the application app (the config's name)
// and posting to webhook ("" turns reporting off). Failed and dropped
// posts are logged to log. Call [Reporter.Close] when done.
func New(app, webhook string, log *logrus.Entry, opts ...Option) *Reporter {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return &Reporter{app: app, now: o.now, alerter: slack.NewAlerter(webhook, log, o.alerter...)}
}

// Report reports err, a failure that concerns user ("" when no user is
// known), unless it is nil or a client error (see [Reportable]). It
// returns at once; the post happens in the background.
func (r *Reporter) Report(user string, err error) {
	if r == nil || !r.alerter.Enabled() || !Reportable(err) {
		return
	}
	r.alerter.Send(Message(r.app, user, err, r.now()))
}

// Close stops reporting and waits until the reports already made are
// posted, or until ctx ends (see [slack.Alerter.Close]).
func (r *Reporter) Close(ctx context.Context) error {
	if r == nil {
		return nil
	}
	return r.alerter.Close(ctx)
}
