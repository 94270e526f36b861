package prepuller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/server/kwatch"
)

// Labels of prepull pods (spec §3.8).
const (
	// LabelCategory is the label that says what a pod belongs to.
	LabelCategory = "nublado.lsst.io/category"
	// CategoryPrepuller is its value on prepull pods.
	CategoryPrepuller = "prepuller"
)

var podsGVR = schema.GroupVersionResource{Version: "v1", Resource: "pods"}

// runningPhases are the phases of a prepull pod that has not finished.
var runningPhases = []corev1.PodPhase{corev1.PodUnknown, corev1.PodPending, corev1.PodRunning, ""}

// podWatch follows the prepull pods of the controller's namespace through
// one informer (a watch with the label selector of prepull pods), so that
// waiting for a pod to finish costs no request of its own. Its watch
// requests end cleanly within watchReconnectTimeout (kwatch.Bounded), so
// that a watch that went silent is replaced.
type podWatch struct {
	namespace string
	informer  cache.SharedIndexInformer
	once      sync.Once // starts the informer

	mu      sync.Mutex
	waiters map[types.UID]*podWaiter
}

// podWaiter is the state of one pod that someone waits for.
type podWaiter struct {
	changed chan struct{} // receives a value after each change
	phase   corev1.PodPhase
	gone    bool // the informer has seen it deleted
}

func newPodWatch(dyn dynamic.Interface, namespace string, watchTimeout time.Duration) *podWatch {
	w := &podWatch{
		namespace: namespace,
		informer: kwatch.Informer(dyn.Resource(podsGVR).Namespace(namespace), kwatch.InformerOptions{
			Selector: LabelCategory + "=" + CategoryPrepuller, WatchTimeout: watchTimeout, Description: "prepull pods",
		}),
		waiters: map[types.UID]*podWaiter{},
	}
	_, _ = w.informer.AddEventHandler(kwatch.Handler(w.notify))
	return w
}

// start runs the informer until ctx ends (on the first call) and waits
// for its first list.
func (w *podWatch) start(ctx context.Context) error {
	w.once.Do(func() { go w.informer.RunWithContext(ctx) })
	if !cache.WaitForCacheSync(ctx.Done(), w.informer.HasSynced) {
		return fmt.Errorf("listing prepull pods: %w", context.Cause(ctx))
	}
	return nil
}

// notify records a change of a pod someone waits for.
func (w *podWatch) notify(pod *unstructured.Unstructured, deleted bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if pw := w.waiters[pod.GetUID()]; pw != nil {
		pw.update(pod, deleted)
	}
}

func (pw *podWaiter) update(pod *unstructured.Unstructured, deleted bool) {
	pw.gone = pw.gone || deleted
	pw.phase = apply.PodPhase(pod)
	select {
	case pw.changed <- struct{}{}:
	default:
	}
}

// register starts following the pod with this uid, from its state in the
// informer's cache if it is there already.
func (w *podWatch) register(name string, uid types.UID) *podWaiter {
	pw := &podWaiter{changed: make(chan struct{}, 1)}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiters[uid] = pw
	if obj, ok, _ := w.informer.GetStore().GetByKey(w.namespace + "/" + name); ok {
		if pod, ok := obj.(*unstructured.Unstructured); ok && pod.GetUID() == uid {
			pw.update(pod, false)
		}
	}
	return pw
}

func (w *podWatch) unregister(uid types.UID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.waiters, uid)
}

// state returns what is known of a followed pod.
func (w *podWatch) state(pw *podWaiter) (phase corev1.PodPhase, gone bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return pw.phase, pw.gone
}

// waitFinished waits until the pod with this uid has a phase other than
// Unknown, Pending and Running, or is gone, and returns that phase (""
// when it is gone). It fails only when ctx ends.
func (w *podWatch) waitFinished(ctx context.Context, name string, uid types.UID) (corev1.PodPhase, error) {
	pw := w.register(name, uid)
	defer w.unregister(uid)
	for {
		phase, gone := w.state(pw)
		switch {
		case gone:
			return "", nil
		case !slices.Contains(runningPhases, phase):
			return phase, nil
		}
		select {
		case <-ctx.Done():
			return phase, context.Cause(ctx)
		case <-pw.changed:
		}
	}
}
