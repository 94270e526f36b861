package events

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	nublado "github.com/nublado-go/nublado"
)

// DefaultPingInterval is how often a stream sends a keep-alive comment, as
// sse-starlette does.
const DefaultPingInterval = 15 * time.Second

// writeTimeout bounds one write to a client, so that a client that stopped
// reading cannot hold its stream (and goroutine) forever.
const writeTimeout = time.Minute

// StreamOptions tune [Serve]. The zero value uses the defaults.
type StreamOptions struct {
	// Ping is the keep-alive interval (default DefaultPingInterval).
	Ping time.Duration
	// Now is the clock of the ping comments (default time.Now).
	Now func() time.Time
}

// Frame returns the wire form of one event:
// "event: <type>\r\ndata: <json>\r\n\r\n".
func Frame(ev nublado.Event) string {
	return "event: " + string(ev.Type) + "\r\ndata: " + Data(ev) + "\r\n\r\n"
}

// PingFrame returns the keep-alive comment for time t:
// ": ping - 2025-01-02 03:04:05.123456+00:00\r\n\r\n" (Python's str() of an
// aware UTC datetime; microseconds left out when zero).
func PingFrame(t time.Time) string {
	t = t.UTC()
	layout := "2006-01-02 15:04:05.000000"
	if t.Nanosecond()/1000 == 0 {
		layout = "2006-01-02 15:04:05"
	}
	return ": ping - " + t.Format(layout) + "+00:00\r\n\r\n"
}

// Serve writes the events of rd to w as a Server-Sent Events stream: status
// 200 with the streaming headers, every event already queued, then new ones
// as they come, and a ping comment every opts.Ping while idle. It returns
// nil when the operation ends (the queue was closed or cleared) and the
// request context's error when the client goes away or the server shuts the
// context down; a failed write is returned as is. Serve never holds up the
// queue's writer: a slow client only delays its own stream.
func Serve(w http.ResponseWriter, r *http.Request, rd *Reader, opts StreamOptions) error {
	if opts.Ping <= 0 {
		opts.Ping = DefaultPingInterval
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &stream{w: w, rc: http.NewResponseController(w)}
	// The connection may serve further requests: leave no deadline behind.
	defer func() { _ = s.rc.SetWriteDeadline(time.Time{}) }()
	if err := s.flush(); err != nil {
		return err
	}
	ping := time.NewTicker(opts.Ping)
	defer ping.Stop()
	ctx := r.Context()
	for {
		evs, wait, done := rd.Poll()
		for _, ev := range evs {
			if err := s.write(Frame(ev)); err != nil {
				return err
			}
		}
		if len(evs) > 0 {
			if err := s.flush(); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		select {
		case <-wait:
		case <-ping.C:
			if err := s.write(PingFrame(opts.Now())); err != nil {
				return err
			}
			if err := s.flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stream writes to one client with a deadline per write where the
// connection supports it.
type stream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (s *stream) write(frame string) error {
	s.deadline()
	if _, err := io.WriteString(s.w, frame); err != nil {
		return fmt.Errorf("writing event stream: %w", err)
	}
	return nil
}

func (s *stream) flush() error {
	s.deadline()
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("flushing event stream: %w", err)
	}
	return nil
}

// deadline pushes the write deadline forward; writers that cannot set one
// (recorders in tests) are left alone.
func (s *stream) deadline() {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout))
}
