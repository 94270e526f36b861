package testcluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Resources the Gafaelfawr stand-in reads and writes.
var (
	// GafaelfawrIngressResource is Gafaelfawr's custom resource
	// (deploy/crds/gafaelfawringress.yaml).
	GafaelfawrIngressResource = schema.GroupVersionResource{
		Group: "gafaelfawr.lsst.io", Version: "v1alpha1", Resource: "gafaelfawringresses",
	}
	// IngressResource is networking.k8s.io/v1 Ingress.
	IngressResource = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
)

// OperatorFieldManager is the field manager of the stand-in's writes.
const OperatorFieldManager = "gafaelfawr-standin"

// DefaultIngressIP is the load-balancer IP the stand-in reports by
// default.
const DefaultIngressIP = "127.0.0.1"

// IngressBehaviour says what the Gafaelfawr stand-in does with each new
// GafaelfawrIngress. The zero value makes the Ingress at once and gives it
// [DefaultIngressIP] at once.
type IngressBehaviour struct {
	// IngressDelay is how long after the GafaelfawrIngress appears the
	// Ingress is made.
	IngressDelay time.Duration
	// IPDelay is how long after the Ingress is made its load-balancer IP
	// is set.
	IPDelay time.Duration
	// NoIngress makes no Ingress at all.
	NoIngress bool
	// NoIP makes the Ingress but never sets its IP.
	NoIP bool
	// IP is the IP set (default [DefaultIngressIP]).
	IP string
}

// GafaelfawrOperator is a stand-in for Gafaelfawr's Kubernetes operator and
// the ingress controller behind it. For every GafaelfawrIngress it makes
// the Ingress of its template (same namespace, the template's name, labels,
// annotations and spec, owned by the GafaelfawrIngress with
// blockOwnerDeletion, so that the garbage collector deletes it with its
// owner) and then sets status.loadBalancer.ingress[0].ip, as an ingress
// controller would, through the status subresource. Both writes are
// server-side applies as [OperatorFieldManager]. When a GafaelfawrIngress
// changes later, the Ingress is applied again at once. The delays and
// omissions of [IngressBehaviour] serve timeout tests.
//
// Its methods are safe for concurrent use.
type GafaelfawrOperator struct {
	dyn       dynamic.Interface
	namespace string

	mu        sync.Mutex
	behaviour IngressBehaviour
	synced    map[types.UID]int64 // generation made, per GafaelfawrIngress
	errs      []error

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartGafaelfawrOperator starts the stand-in on the cluster of cfg,
// watching the GafaelfawrIngresses of namespace ("" for all namespaces),
// and returns once it has seen the existing ones. Stop it with
// [GafaelfawrOperator.Stop].
func StartGafaelfawrOperator(ctx context.Context, cfg *rest.Config, namespace string, b IngressBehaviour) (*GafaelfawrOperator, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating dynamic client: %w", err)
	}
	life, cancel := context.WithCancel(context.Background())
	o := &GafaelfawrOperator{dyn: dyn, namespace: namespace, behaviour: b, synced: map[types.UID]int64{}, cancel: cancel}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, namespace, nil)
	inf := factory.ForResource(GafaelfawrIngressResource).Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.observe(life, obj) },
		UpdateFunc: func(_, obj any) { o.observe(life, obj) },
	})
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		inf.RunWithContext(life)
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		o.Stop()
		return nil, fmt.Errorf("starting the Gafaelfawr stand-in: %w", ctx.Err())
	}
	return o, nil
}

// GafaelfawrOperator starts the stand-in for the GafaelfawrIngresses of
// namespace ("" for all) and stops it when the test ends. Errors of its
// writes fail the test then.
func (c *Cluster) GafaelfawrOperator(t testing.TB, namespace string, b IngressBehaviour) *GafaelfawrOperator {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := StartGafaelfawrOperator(ctx, c.Config(), namespace, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.Stop()
		if err := errors.Join(o.Errors()...); err != nil {
			t.Errorf("Gafaelfawr stand-in: %v", err)
		}
	})
	return o
}

// SetBehaviour changes what the stand-in does with GafaelfawrIngresses that
// appear from now on.
func (o *GafaelfawrOperator) SetBehaviour(b IngressBehaviour) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.behaviour = b
}

// Errors returns the failures of the stand-in's writes so far (the writes
// are retried for up to ten seconds first; a GafaelfawrIngress deleted
// meanwhile is not a failure).
func (o *GafaelfawrOperator) Errors() []error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]error(nil), o.errs...)
}

// Stop stops the stand-in and waits for its work in progress to end.
func (o *GafaelfawrOperator) Stop() {
	o.cancel()
	o.wg.Wait()
}

// observe starts the work for a new GafaelfawrIngress, or a change of one.
func (o *GafaelfawrOperator) observe(ctx context.Context, obj any) {
	gi, ok := obj.(*unstructured.Unstructured)
	if !ok || gi.GetDeletionTimestamp() != nil {
		return
	}
	o.mu.Lock()
	made, known := o.synced[gi.GetUID()]
	if known && made >= gi.GetGeneration() {
		o.mu.Unlock()
		return
	}
	o.synced[gi.GetUID()] = gi.GetGeneration()
	b := o.behaviour
	if known {
		// A change: make the Ingress again at once.
		b = IngressBehaviour{IP: b.IP}
	}
	o.wg.Add(1)
	o.mu.Unlock()
	go func() {
		defer o.wg.Done()
		if err := o.sync(ctx, gi.DeepCopy(), b); err != nil && ctx.Err() == nil {
			o.mu.Lock()
			o.errs = append(o.errs, err)
			o.mu.Unlock()
		}
	}()
}

// sync makes the Ingress of gi and sets its IP, as b says.
func (o *GafaelfawrOperator) sync(ctx context.Context, gi *unstructured.Unstructured, b IngressBehaviour) error {
	if b.NoIngress {
		return nil
	}
	if err := sleep(ctx, b.IngressDelay); err != nil {
		return nil //nolint:nilerr // stopped
	}
	ing, err := ingressFor(gi)
	if err != nil {
		return err
	}
	ri := o.dyn.Resource(IngressResource).Namespace(gi.GetNamespace())
	opts := metav1.ApplyOptions{FieldManager: OperatorFieldManager, Force: true}
	err = o.retry(ctx, gi, func(ctx context.Context) error {
		_, err := ri.Apply(ctx, ing.GetName(), ing, opts)
		return err
	})
	if err != nil || b.NoIP {
		return err
	}
	if err := sleep(ctx, b.IPDelay); err != nil {
		return nil //nolint:nilerr // stopped
	}
	ip := b.IP
	if ip == "" {
		ip = DefaultIngressIP
	}
	st := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": ing.GetName(), "namespace": ing.GetNamespace()},
		"status":   map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": ip}}}},
	}}
	return o.retry(ctx, gi, func(ctx context.Context) error {
		_, err := ri.ApplyStatus(ctx, ing.GetName(), st, opts)
		return err
	})
}

// retry calls fn until it succeeds, for up to ten seconds; it gives up
// quietly once gi is gone or being deleted.
func (o *GafaelfawrOperator) retry(ctx context.Context, gi *unstructured.Unstructured, fn func(context.Context) error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn(ctx)
		if err == nil || ctx.Err() != nil {
			return nil
		}
		cur, gerr := o.dyn.Resource(GafaelfawrIngressResource).Namespace(gi.GetNamespace()).
			Get(ctx, gi.GetName(), metav1.GetOptions{})
		if gerr != nil || cur.GetUID() != gi.GetUID() || cur.GetDeletionTimestamp() != nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("GafaelfawrIngress %s/%s: %w", gi.GetNamespace(), gi.GetName(), err)
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil //nolint:nilerr // stopped
		}
	}
}

// ingressFor builds the Ingress of a GafaelfawrIngress from its template.
func ingressFor(gi *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	meta, _, _ := unstructured.NestedMap(gi.Object, "template", "metadata")
	spec, _, _ := unstructured.NestedMap(gi.Object, "template", "spec")
	name, _ := meta["name"].(string)
	if name == "" || spec == nil {
		return nil, fmt.Errorf("GafaelfawrIngress %s/%s: template without name or spec", gi.GetNamespace(), gi.GetName())
	}
	ing := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "spec": spec,
	}}
	ing.SetNamespace(gi.GetNamespace())
	ing.SetName(name)
	if labels, ok, _ := unstructured.NestedStringMap(meta, "labels"); ok {
		ing.SetLabels(labels)
	}
	if annotations, ok, _ := unstructured.NestedStringMap(meta, "annotations"); ok {
		ing.SetAnnotations(annotations)
	}
	yes := true
	ing.SetOwnerReferences([]metav1.OwnerReference{{
		APIVersion: gi.GetAPIVersion(), Kind: gi.GetKind(), Name: gi.GetName(), UID: gi.GetUID(),
		Controller: &yes, BlockOwnerDeletion: &yes,
	}})
	return ing, nil
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
