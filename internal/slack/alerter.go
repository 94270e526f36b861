package slack

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/sirupsen/logrus"
)

// Defaults of an [Alerter].
const (
	// DefaultQueueSize is how many messages may wait to be posted.
	DefaultQueueSize = 64
	// DefaultPostTimeout bounds one post.
	DefaultPostTimeout = 10 * time.Second
)

// Alerter posts messages to a webhook in the background, one at a time
// and in order. [Alerter.Send] never waits: a message that finds the queue
// full is dropped and logged. An Alerter without a webhook URL, and a nil
// *Alerter, drop every message silently. Build it with [NewAlerter] and end
// it with [Alerter.Close]. Its methods are safe for concurrent use.
type Alerter struct {
	url     string
	client  *http.Client
	timeout time.Duration
	log     *logrus.Entry

	mu     sync.RWMutex
	closed bool
	queue  chan Message

	life   context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// AlerterOption configures an [Alerter].
type AlerterOption func(*Alerter)

// WithQueueSize sets how many messages may wait (n < 1 means 1). Default:
// [DefaultQueueSize].
func WithQueueSize(n int) AlerterOption {
	return func(a *Alerter) { a.queue = make(chan Message, max(n, 1)) }
}

// WithPostTimeout bounds each post. Default: [DefaultPostTimeout].
func WithPostTimeout(d time.Duration) AlerterOption {
	return func(a *Alerter) { a.timeout = d }
}

// WithHTTPClient sets the client of the posts. Default: a client of its
// own with the default transport.
func WithHTTPClient(c *http.Client) AlerterOption {
	return func(a *Alerter) { a.client = c }
}

// NewAlerter returns an alerter posting to the webhook at url ("" turns it
// off) and logging failed and dropped posts to log. When url is set it
// starts the goroutine that posts; [Alerter.Close] stops it.
func NewAlerter(url string, log *logrus.Entry, opts ...AlerterOption) *Alerter {
	a := &Alerter{url: url, client: &http.Client{}, timeout: DefaultPostTimeout, log: log,
		done: make(chan struct{})}
	for _, opt := range opts {
		opt(a)
	}
	if a.queue == nil {
		a.queue = make(chan Message, DefaultQueueSize)
	}
	if url == "" {
		a.closed = true
		close(a.done)
		return a
	}
	a.life, a.cancel = context.WithCancel(context.Background())
	go a.run()
	return a
}

// Enabled tells whether the alerter has a webhook.
func (a *Alerter) Enabled() bool { return a != nil && a.url != "" }

// Send queues msg and returns at once: true when it was queued, false when
// it was dropped (no webhook, closed, or the queue is full; only the last
// is logged).
func (a *Alerter) Send(msg Message) bool {
	if a == nil {
		return false
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return false
	}
	select {
	case a.queue <- msg:
		return true
	default:
		a.log.WithField("queue_size", cap(a.queue)).Warn("Slack alert queue is full, dropping the alert")
		return false
	}
}

// Close stops taking messages and waits until the queued ones are posted
// or ctx ends; then the post in progress is abandoned and the rest are
// dropped. It returns ctx's error in that case.
func (a *Alerter) Close(ctx context.Context) error {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.queue)
	}
	a.mu.Unlock()
	select {
	case <-a.done:
		return nil
	case <-ctx.Done():
		if a.cancel != nil {
			a.cancel()
		}
		<-a.done
		return ctx.Err()
	}
}

// run posts the queued messages until the queue is closed and drained.
func (a *Alerter) run() {
	defer close(a.done)
	defer a.cancel()
	for msg := range a.queue {
		if a.life.Err() != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(a.life, a.timeout)
		if err := Post(ctx, a.client, a.url, msg); err != nil {
			a.log.WithError(err).Warn("Cannot post alert to Slack")
		}
		cancel()
	}
}
