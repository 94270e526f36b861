package apply

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// retry calls fn until it succeeds, fails with an error that is not
// transient, or ctx ends. Between attempts it waits as long as the server
// asked (Retry-After) or with exponential backoff and jitter.
func (a *Applier) retry(ctx context.Context, fn func(context.Context) error) error {
	delay := a.o.backoffInitial
	for {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return stopped(ctx, err)
		}
		wait, ok := transient(err)
		if !ok {
			return err
		}
		if wait == 0 {
			wait = delay/2 + rand.N(delay/2+1)
			delay = min(2*delay, a.o.backoffMax)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return stopped(ctx, err)
		case <-t.C:
		}
	}
}

// transient reports whether err is worth retrying and how long the server
// asked to wait (0 when it did not say).
func transient(err error) (time.Duration, bool) {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		code := int(s.Code)
		wait := time.Duration(0)
		if seconds, ok := apierrors.SuggestsClientDelay(err); ok {
			wait = time.Duration(seconds) * time.Second
		}
		switch {
		case code == http.StatusTooManyRequests, code >= 500:
			return wait, true
		case code == http.StatusForbidden && strings.Contains(s.Message, "status unknown for quota"):
			// The quota controller has not yet computed a new quota's
			// usage; admission refuses pods until it has.
			return wait, true
		}
		return 0, false
	}
	return 0, transientTransport(err)
}

// transientTransport recognises network failures: refused or reset
// connections, unexpected EOFs, timeouts.
func transientTransport(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var nerr net.Error
	switch {
	case utilnet.IsConnectionRefused(err), utilnet.IsConnectionReset(err), utilnet.IsProbableEOF(err):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	case errors.As(err, &nerr) && nerr.Timeout():
		return true
	}
	return false
}

// Retry calls fn as the applier calls each of its own requests: again on
// 429 (after Retry-After), 5xx and network failures, with the applier's
// backoff, until fn succeeds, fails otherwise or ctx ends. For the reads
// callers make next to an apply, so they ride out an API server restart
// the same way.
func (a *Applier) Retry(ctx context.Context, fn func(context.Context) error) error {
	return a.retry(ctx, fn)
}
