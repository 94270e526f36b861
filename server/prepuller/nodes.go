package prepuller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/nublado-go/nublado/images"
	"github.com/nublado-go/nublado/server/kwatch"
)

// NodeListTimeout bounds how long a refresh waits for the node cache to be
// filled (the 30 s node-list timeout of §5.7).
const NodeListTimeout = 30 * time.Second

// ErrNotStarted is returned by [NodeWatcher.Nodes] before
// [NodeWatcher.Start].
var ErrNotStarted = errors.New("node watcher not started")

// NodeWatcher keeps the nodes selected by the lab node selector in memory
// through one Node informer (a list, then watch requests that end cleanly
// within the watch timeout, kwatch.Bounded, so that a watch that went
// silent is replaced in time; the informer resumes from its resource
// version and lists again after a 410). It is safe for concurrent use.
type NodeWatcher struct {
	informer cache.SharedIndexInformer
	lister   listersv1.NodeLister
	started  chan struct{}

	// mu guards removed: per node asked about, the channel closed when
	// the node leaves the selected set.
	mu      sync.Mutex
	removed map[string]chan struct{}
}

// NewNodeWatcher returns a watcher of the nodes matching selector (every
// node when it is empty), whose watch requests last at most watchTimeout
// (the configuration's watchReconnectTimeout; 0 leaves client-go's
// default). Nothing is sent before [NodeWatcher.Start].
func NewNodeWatcher(client kubernetes.Interface, selector map[string]string, watchTimeout time.Duration) *NodeWatcher {
	sel := labels.SelectorFromSet(selector).String()
	nodes := client.CoreV1().Nodes()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.LabelSelector = sel
			return nodes.List(ctx, opts)
		},
		WatchFuncWithContext: kwatch.Bounded(watchTimeout, func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.LabelSelector = sel
			return nodes.Watch(ctx, opts)
		}),
	}
	informer := cache.NewSharedIndexInformerWithOptions(cache.ToListWatcherWithWatchListSemantics(lw, client),
		&corev1.Node{}, cache.SharedIndexInformerOptions{ObjectDescription: "nodes"})
	w := &NodeWatcher{
		informer: informer,
		lister:   listersv1.NewNodeLister(informer.GetIndexer()),
		started:  make(chan struct{}),
		removed:  map[string]chan struct{}{},
	}
	_, _ = w.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: w.onDelete})
	return w
}

// Removed returns a channel that is closed when the node leaves the
// selected set: it is deleted, or relabelled so that the selector no
// longer matches. The channel is closed at once when the node is not in
// the set now (once the watcher has listed the nodes; before that every
// node counts as present). A node that comes back later gets a new
// channel from the next call.
func (w *NodeWatcher) Removed(node string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.removed[node]; ok {
		return ch
	}
	ch := make(chan struct{})
	if w.synced() {
		if _, err := w.lister.Get(node); err != nil {
			close(ch)
			return ch
		}
	}
	w.removed[node] = ch
	return ch
}

// synced reports whether the informer has listed the nodes.
func (w *NodeWatcher) synced() bool {
	select {
	case <-w.started:
		return w.informer.HasSynced()
	default:
		return false
	}
}

// onDelete closes the removal channel of a node that left the set.
func (w *NodeWatcher) onDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.removed[n.Name]; ok {
		close(ch)
		delete(w.removed, n.Name)
	}
}

// Start starts the informer in the background; it stops when ctx ends.
// Call it once.
func (w *NodeWatcher) Start(ctx context.Context) {
	go w.informer.RunWithContext(ctx)
	close(w.started)
}

// Nodes returns the selected nodes sorted by name (the order in which the
// API lists them), waiting at most [NodeListTimeout] for the informer's
// first list.
func (w *NodeWatcher) Nodes(ctx context.Context) ([]images.Node, error) {
	select {
	case <-w.started:
	default:
		return nil, ErrNotStarted
	}
	if !w.informer.HasSynced() {
		ctx, cancel := context.WithTimeout(ctx, NodeListTimeout)
		defer cancel()
		if !cache.WaitForCacheSync(ctx.Done(), w.informer.HasSynced) {
			return nil, fmt.Errorf("listing nodes: %w", context.Cause(ctx))
		}
	}
	list, err := w.lister.List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	slices.SortFunc(list, func(a, b *corev1.Node) int { return strings.Compare(a.Name, b.Name) })
	out := make([]images.Node, 0, len(list))
	for _, n := range list {
		out = append(out, imageNode(n))
	}
	return out, nil
}

// imageNode copies what the image logic reads from a Node.
func imageNode(n *corev1.Node) images.Node {
	out := images.Node{Name: n.Name, Labels: n.Labels}
	for _, t := range n.Spec.Taints {
		out.Taints = append(out.Taints, images.Taint{Key: t.Key, Value: t.Value, Effect: string(t.Effect)})
	}
	for _, img := range n.Status.Images {
		out.Images = append(out.Images, images.ContainerImage{Names: img.Names, SizeBytes: img.SizeBytes})
	}
	return out
}
