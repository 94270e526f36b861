package apply

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
)

// query selects the objects of one resource that a watch follows.
type query struct {
	ri            dynamic.ResourceInterface
	fieldSelector string
	labelSelector string
}

// byName selects one object by name.
func byName(ri dynamic.ResourceInterface, name string) query {
	return query{ri: ri, fieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()}
}

// observer receives what a watch sees. Each callback returns done=true to
// end the watch successfully, or an error to end it with that error.
type observer struct {
	// reset is called before a fresh initial state is delivered: at the
	// start, and again when the watch had to start over (410 Gone).
	reset func()
	// object is called for every object of the initial state and every
	// later change; deleted is true when the object was deleted.
	object func(obj *unstructured.Unstructured, deleted bool) (bool, error)
	// synced is called when the initial state has been delivered.
	synced func() (bool, error)
}

// errRelist ends one watch request when the watch has to start over from
// the current state (the server answered 410 Gone).
var errRelist = errors.New("resource version too old")

// watch follows the objects of q until an observer callback says done or
// fails, or ctx ends. It first delivers the current state (with a single
// watch request using sendInitialEvents when the server supports it, else
// a list), then every change. Each watch request lasts at most the watch
// timeout and is restarted from the last resourceVersion seen; 410 Gone
// starts over from the current state; transient failures are retried
// with backoff.
func (a *Applier) watch(ctx context.Context, q query, obs observer) error {
	rv := ""
	delay := a.o.backoffInitial
	for {
		began := time.Now()
		next, done, err := a.watchOnce(ctx, q, rv, obs)
		switch {
		case done:
			return nil
		case errors.Is(err, errRelist):
			rv = ""
			continue
		case err != nil:
			return err
		}
		rv = next
		if time.Since(began) > time.Second {
			delay = a.o.backoffInitial
			continue
		}
		// The watch ended at once: do not hammer the server.
		if err := sleep(ctx, delay); err != nil {
			return err
		}
		delay = min(2*delay, a.o.backoffMax)
	}
}

// watchOnce runs one watch request from rv ("" for the current state) and
// returns the resourceVersion to continue from when it ends.
func (a *Applier) watchOnce(ctx context.Context, q query, rv string, obs observer) (string, bool, error) {
	streaming := false
	if rv == "" {
		if a.noWatchList.Load() {
			listRV, done, err := a.list(ctx, q, obs)
			if done || err != nil {
				return "", done, err
			}
			rv = listRV
		} else {
			streaming = true
		}
	}
	w, err := a.startWatch(ctx, q, rv, streaming)
	switch {
	case streaming && (apierrors.IsBadRequest(err) || apierrors.IsInvalid(err)):
		a.noWatchList.Store(true)
		return "", false, errRelist
	case isGone(err):
		return "", false, errRelist
	case err != nil:
		return "", false, err
	}
	defer w.Stop()
	if streaming && obs.reset != nil {
		obs.reset()
	}
	began := time.Now()
	synced := !streaming
	track := obs
	track.synced = func() (bool, error) {
		synced = true
		if obs.synced == nil {
			return false, nil
		}
		return obs.synced()
	}
	for {
		select {
		case <-ctx.Done():
			return rv, false, ctx.Err()
		case ev, ok := <-w.ResultChan():
			switch {
			case ok:
			case synced:
				return rv, false, nil
			case time.Since(began) >= a.o.watchTimeout-time.Second:
				// A server that ignores sendInitialEvents never ends the
				// initial state: list first from now on.
				a.noWatchList.Store(true)
				return "", false, errRelist
			default:
				// Cut off before the initial state was complete: again.
				return "", false, nil
			}
			var done bool
			rv, done, err = handleEvent(ev, rv, track)
			if done || err != nil {
				return rv, done, err
			}
		}
	}
}

// handleEvent passes one watch event to the observer.
func handleEvent(ev watch.Event, rv string, obs observer) (string, bool, error) {
	if ev.Type == watch.Error {
		err := apierrors.FromObject(ev.Object)
		if isGone(err) {
			return "", false, errRelist
		}
		if _, ok := transient(err); ok {
			// End this request; the caller restarts from rv.
			return rv, false, nil
		}
		return rv, false, fmt.Errorf("watching: %w", err)
	}
	obj, ok := ev.Object.(*unstructured.Unstructured)
	if !ok {
		return rv, false, fmt.Errorf("watching: unexpected object %T", ev.Object)
	}
	if next := obj.GetResourceVersion(); next != "" {
		rv = next
	}
	switch ev.Type {
	case watch.Bookmark:
		if obj.GetAnnotations()[metav1.InitialEventsAnnotationKey] == "true" && obs.synced != nil {
			done, err := obs.synced()
			return rv, done, err
		}
		return rv, false, nil
	case watch.Added, watch.Modified, watch.Deleted:
		done, err := obs.object(obj, ev.Type == watch.Deleted)
		return rv, done, err
	}
	return rv, false, nil
}

// startWatch opens one watch request, retrying transient failures.
func (a *Applier) startWatch(ctx context.Context, q query, rv string, streaming bool) (watch.Interface, error) {
	timeout := int64(math.Ceil(a.o.watchTimeout.Seconds()))
	opts := metav1.ListOptions{
		FieldSelector:       q.fieldSelector,
		LabelSelector:       q.labelSelector,
		ResourceVersion:     rv,
		AllowWatchBookmarks: true,
		TimeoutSeconds:      &timeout,
	}
	if streaming {
		yes := true
		opts.SendInitialEvents = &yes
		opts.ResourceVersionMatch = metav1.ResourceVersionMatchNotOlderThan
	}
	var w watch.Interface
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		w, err = q.ri.Watch(ctx, opts)
		return err
	})
	return w, err
}

// list delivers the current state with a list request (for servers without
// WatchList) and returns its resourceVersion.
func (a *Applier) list(ctx context.Context, q query, obs observer) (string, bool, error) {
	var l *unstructured.UnstructuredList
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		l, err = q.ri.List(ctx, metav1.ListOptions{FieldSelector: q.fieldSelector, LabelSelector: q.labelSelector})
		return err
	})
	if err != nil {
		return "", false, err
	}
	if obs.reset != nil {
		obs.reset()
	}
	for i := range l.Items {
		if done, err := obs.object(&l.Items[i], false); done || err != nil {
			return "", done, err
		}
	}
	if obs.synced != nil {
		if done, err := obs.synced(); done || err != nil {
			return "", done, err
		}
	}
	return l.GetResourceVersion(), false, nil
}

func isGone(err error) bool {
	return apierrors.IsGone(err) || apierrors.IsResourceExpired(err)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// watchObject follows one object by name and calls fn with each state it
// has, starting with the current one; obj is nil while the object does not
// exist. It returns when fn says done or fails, or ctx ends.
func (a *Applier) watchObject(ctx context.Context, ri dynamic.ResourceInterface, name string,
	fn func(obj *unstructured.Unstructured) (bool, error)) error {
	var current *unstructured.Unstructured
	synced := false
	return a.watch(ctx, byName(ri, name), observer{
		reset: func() { current, synced = nil, false },
		object: func(obj *unstructured.Unstructured, deleted bool) (bool, error) {
			if obj.GetName() != name {
				return false, nil
			}
			current = obj
			if deleted {
				current = nil
			}
			if !synced {
				return false, nil
			}
			return fn(current)
		},
		synced: func() (bool, error) {
			synced = true
			return fn(current)
		},
	})
}
