package prepuller

import (
	"context"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sirupsen/logrus"

	"github.com/nublado-go/nublado/server/alert"
)

// RunLoop calls fn every interval until ctx ends, with the background-task
// semantics of §4.8: the first call happens one interval after RunLoop
// starts; after a call that took elapsed, the next one starts
// interval − elapsed later; a call that took the interval or longer logs
// a warning "{Description} is running continuously" and the next one
// starts at once; an error is logged as "Uncaught exception {description}"
// and the loop goes on. description is a lower-case phrase such as
// "refreshing image data". RunLoop returns when ctx ends; a call in
// progress then sees its ctx cancelled and its error is not logged.
func RunLoop(ctx context.Context, interval time.Duration, description string, log *logrus.Entry, fn func(context.Context) error) {
	wait := interval
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		if err := fn(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.WithError(err).Error("Uncaught exception " + description)
		}
		elapsed := time.Since(start)
		wait = interval - elapsed
		if wait <= 0 {
			log.WithField("duration_ms", elapsed.Milliseconds()).Warn(capitalise(description) + " is running continuously")
			wait = 0
		}
		timer.Reset(wait)
	}
}

// Reporter reports failures to Slack (*alert.Reporter implements it).
type Reporter = alert.Sink

// nopReporter reports nothing.
type nopReporter = alert.Nop

// Reporting returns fn, reporting its errors to r (with no user) unless
// its ctx has ended: the failures of a background loop's run, for
// [RunLoop].
func Reporting(r Reporter, fn func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && ctx.Err() == nil {
			r.Report("", err)
		}
		return err
	}
}

// capitalise upper-cases the first letter.
func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}
