package apply

import (
	"context"
	"sync"

	"github.com/hashicorp/go-multierror"
)

// forEach calls fn for every target with at most the configured number of
// workers, and returns the results of the calls that succeeded in the order
// of targets. After the first failure, targets not yet started are skipped.
// Several failures are returned together (in the order of targets).
func forEach[T any](ctx context.Context, a *Applier, targets []*target,
	fn func(context.Context, *target) (T, error)) ([]T, error) {
	changes := make([]T, len(targets))
	errs := make([]error, len(targets))
	ok := make([]bool, len(targets))
	var failed sync.Once
	stop := make(chan struct{})
	a.parallel(len(targets), func(i int) {
		select {
		case <-stop:
			return
		default:
		}
		c, err := fn(ctx, targets[i])
		if err != nil {
			errs[i] = err
			failed.Do(func() { close(stop) })
			return
		}
		changes[i], ok[i] = c, true
	})
	var out []T
	for i := range targets {
		if ok[i] {
			out = append(out, changes[i])
		}
	}
	return out, join(errs)
}

// parallel calls fn(0..n-1) with at most the configured number of workers
// and returns when all calls have returned.
func (a *Applier) parallel(n int, fn func(i int)) {
	workers := min(a.o.workers, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// all runs every fn concurrently (they are waits, not requests, so they
// are not bounded by the worker count) and returns their errors in order.
func all(fns []func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return join(errs)
}

// join returns nil, the single error, or a multierror of several, in
// order; errors.As finds the first.
func join(errs []error) error {
	var result *multierror.Error
	var only error
	n := 0
	for _, err := range errs {
		if err != nil {
			only = err
			n++
			result = multierror.Append(result, err)
		}
	}
	if n == 1 {
		return only
	}
	return result.ErrorOrNil()
}
