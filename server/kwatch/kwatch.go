package kwatch

import (
	"context"
	"math"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"
)

// Func opens one watch request (cache.ListWatch's WatchFuncWithContext).
type Func = cache.WatchFuncWithContext

// Lifetime is how long a watch request lasts on the client side under a
// watch timeout: the timeout less a margin of a tenth of it (between one
// and thirty seconds), but at least half the timeout and at least one
// second (or the whole timeout when it is shorter); 0 for a timeout of 0.
// The margin leaves room for the next request and the delivery of what it
// brings, so that a stalled watch is replaced within the timeout. The
// floor of one second keeps client-go's reflector from taking the end for
// a failure: it backs off after a watch that ended within a second
// without an event.
func Lifetime(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return 0
	}
	margin := min(max(timeout/10, time.Second), 30*time.Second)
	return max(timeout-margin, timeout/2, min(timeout, minLifetime))
}

// minLifetime is the shortest lifetime of a watch request that the
// reflector takes for a normal end.
const minLifetime = time.Second

// Bounded returns a Func that opens watch requests with open, asks the
// server to end each after timeout (timeoutSeconds, rounded up to whole
// seconds) and ends it on the client side after [Lifetime](timeout): the
// request is cancelled and the result channel closed without an error
// event (a request cut before its response began gives a watch whose
// channel is closed already, not an error). Events not yet taken from the channel then are dropped; the
// reflector gets them again from the next request, which starts at the
// resourceVersion of the last event it took. A timeout of 0 returns open
// unchanged.
func Bounded(timeout time.Duration, open Func) Func {
	if timeout <= 0 {
		return open
	}
	secs := int64(math.Ceil(timeout.Seconds()))
	life := Lifetime(timeout)
	return func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
		opts.TimeoutSeconds = &secs
		rctx, cancel := context.WithCancel(ctx)
		b := &bounded{result: make(chan watch.Event), stop: make(chan struct{}), cut: make(chan struct{})}
		// The cut is closed before the request is cancelled, so an error
		// that the cancellation causes is recognised and not passed on.
		timer := time.AfterFunc(life, func() {
			close(b.cut)
			cancel()
		})
		w, err := open(rctx, opts)
		if err != nil {
			timer.Stop()
			cancel()
			if b.over() {
				// The request was cut before its response began (a stream
				// silenced before its headers): end as cleanly as after.
				close(b.result)
				return b, nil
			}
			return nil, err
		}
		go b.run(w, func() {
			timer.Stop()
			cancel()
		})
		return b, nil
	}
}

// bounded is a watch that ends cleanly when its cut closes.
type bounded struct {
	result chan watch.Event
	stop   chan struct{} // closed by Stop
	cut    chan struct{} // closed when the lifetime is over
	once   sync.Once
}

// run forwards the events of w until w ends, Stop is called or the
// lifetime is over; then it releases the request (release) and closes
// the result channel.
func (b *bounded) run(w watch.Interface, release func()) {
	defer close(b.result)
	defer w.Stop()
	defer release()
	in := w.ResultChan()
	for {
		select {
		case <-b.stop:
			return
		case <-b.cut:
			return
		case ev, ok := <-in:
			if !ok || b.over() {
				return
			}
			select {
			case b.result <- ev:
			case <-b.stop:
				return
			case <-b.cut:
				return
			}
		}
	}
}

// over reports whether the lifetime is over.
func (b *bounded) over() bool {
	select {
	case <-b.cut:
		return true
	default:
		return false
	}
}

// Stop ends the watch; the result channel closes soon after.
func (b *bounded) Stop() { b.once.Do(func() { close(b.stop) }) }

// ResultChan returns the events of the watch.
func (b *bounded) ResultChan() <-chan watch.Event { return b.result }

// ListWatch is the list-and-watch of an informer of the objects of ri
// that match a label selector ("" for all), with [Bounded] watches.
// Wrap it with cache.ToListWatcherWithWatchListSemantics to let the
// informer use streaming lists.
func ListWatch(ri dynamic.ResourceInterface, selector string, timeout time.Duration) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = selector
			return ri.List(ctx, opts)
		},
		WatchFuncWithContext: Bounded(timeout, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = selector
			return ri.Watch(ctx, opts)
		}),
	}
}

// InformerOptions configure an [Informer].
type InformerOptions struct {
	// Selector is the label selector ("" for every object).
	Selector string
	// WatchTimeout bounds each watch request ([Bounded]).
	WatchTimeout time.Duration
	// Resync re-delivers every cached object to the handlers this often
	// (0: never).
	Resync time.Duration
	// Description names the objects in client-go's log lines.
	Description string
	// Indexers are the cache's indexes (none when nil).
	Indexers cache.Indexers
	// Transform slims each object before it is cached (none when nil).
	Transform cache.TransformFunc
	// Client, when set, is the client whose support for streaming lists
	// the informer uses (cache.ToListWatcherWithWatchListSemantics);
	// without it the informer lists as client-go decides by default.
	Client any
}

// Informer returns an informer of the unstructured objects of ri over
// [ListWatch]: its watch requests are [Bounded]. It is not started.
func Informer(ri dynamic.ResourceInterface, o InformerOptions) cache.SharedIndexInformer {
	base := ListWatch(ri, o.Selector, o.WatchTimeout)
	var lw cache.ListerWatcher = base
	if o.Client != nil {
		lw = cache.ToListWatcherWithWatchListSemantics(base, o.Client)
	}
	inf := cache.NewSharedIndexInformerWithOptions(lw, &unstructured.Unstructured{},
		cache.SharedIndexInformerOptions{ResyncPeriod: o.Resync, ObjectDescription: o.Description, Indexers: o.Indexers})
	if o.Transform != nil {
		_ = inf.SetTransform(o.Transform) // fails only once started
	}
	return inf
}

// Handler calls fn with every object an informer adds, changes or
// deletes; deleted is true for a deletion, also one the informer only
// learnt of by listing again (its tombstone is unwrapped).
func Handler(fn func(obj *unstructured.Unstructured, deleted bool)) cache.ResourceEventHandler {
	call := func(obj any, deleted bool) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj, deleted = d.Obj, true
		}
		if u, ok := obj.(*unstructured.Unstructured); ok {
			fn(u, deleted)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { call(obj, false) },
		UpdateFunc: func(_, obj any) { call(obj, false) },
		DeleteFunc: func(obj any) { call(obj, true) },
	}
}

// Cached returns the object of an informer's cache with this namespace
// ("" for a cluster-scoped object) and name, or nil.
func Cached(inf cache.SharedIndexInformer, namespace, name string) *unstructured.Unstructured {
	key := name
	if namespace != "" {
		key = namespace + "/" + name
	}
	obj, ok, err := inf.GetStore().GetByKey(key)
	if err != nil || !ok {
		return nil
	}
	u, _ := obj.(*unstructured.Unstructured)
	return u
}
