package load

import (
	"context"
	"sync"
	"time"
)

// Result is what one user saw of one operation.
type Result struct {
	User string
	// Start is when the user sent its request, Offset when that was after
	// the start of the run.
	Start  time.Time
	Offset time.Duration
	// Accepted is how long the create (or delete) request took to answer.
	Accepted time.Duration
	// Done is how long from the request to the end of the operation: the
	// complete event of a spawn, the 204 of a delete.
	Done time.Duration
	// Applied is how long from the request of a spawn to the event that
	// its objects were created (0 for a delete); Done minus Applied is
	// the pod's start as the controller saw it.
	Applied time.Duration
	// Err is the failure, nil when the operation succeeded.
	Err error
}

// Operation is what each user does: spawn or delete. It fills the
// durations and the error of r.
type Operation func(ctx context.Context, c *Client, r *Result)

// Spawn creates the user's lab and follows its events until it completes.
func Spawn(ctx context.Context, c *Client, r *Result) {
	if r.Err = c.Create(ctx, r.User); r.Err != nil {
		r.Accepted = time.Since(r.Start)
		return
	}
	r.Accepted = time.Since(r.Start)
	times, err := c.WaitSpawn(ctx, r.User)
	if r.Err = err; err != nil {
		return
	}
	r.Done = times.Complete.Sub(r.Start)
	if !times.Created.IsZero() {
		r.Applied = times.Created.Sub(r.Start)
	}
}

// Delete deletes the user's lab and waits for the 204.
func Delete(ctx context.Context, c *Client, r *Result) {
	r.Err = c.Delete(ctx, r.User)
	r.Accepted = time.Since(r.Start)
	r.Done = r.Accepted
}

// Run starts op for every user, the i-th at i*window/len(users) after the
// start (all at once when window is 0), waits for all and returns their
// results in the order of users. ctx bounds the whole run.
func Run(ctx context.Context, c *Client, users []string, window time.Duration, op Operation) []Result {
	results := make([]Result, len(users))
	begin := time.Now()
	var wg sync.WaitGroup
	for i, user := range users {
		offset := time.Duration(0)
		if len(users) > 0 {
			offset = window * time.Duration(i) / time.Duration(len(users))
		}
		wg.Go(func() {
			t := time.NewTimer(time.Until(begin.Add(offset)))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				results[i] = Result{User: user, Offset: offset, Err: ctx.Err()}
				return
			}
			r := Result{User: user, Start: time.Now()}
			r.Offset = r.Start.Sub(begin)
			op(ctx, c, &r)
			results[i] = r
		})
	}
	wg.Wait()
	return results
}
