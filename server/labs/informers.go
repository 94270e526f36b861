package labs

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/nublado-go/nublado/server/kwatch"
)

// labSelector selects every lab object.
const labSelector = LabelCategory + "=" + CategoryLab

// informerSettings configure the informers.
type informerSettings struct {
	// resync re-delivers every cached object to the handlers this often
	// (0: never).
	resync time.Duration
	// watchTimeout is watchReconnectTimeout: each watch request ends
	// within it, so that a silent watch is replaced in time (see
	// kwatch.Bounded).
	watchTimeout time.Duration
	// onPod is called after every change of a lab pod, with the pod (nil
	// when it was deleted), its namespace and name.
	onPod func(namespace, name string, pod *unstructured.Unstructured)
}

// informers are the shared informers of lab objects: one watch per kind,
// cluster-wide, with the label selector nublado.lsst.io/category=lab. Each
// watch request is cut cleanly on the client side shortly before
// watchReconnectTimeout (kwatch.Bounded), so that a watch that went
// silent is replaced within it; the reflector then watches again from the
// last resourceVersion, and lists again when the server answers 410 Gone.
// Their caches hold slimmed objects (see slim).
type informers struct {
	namespaces, pods, configMaps, quotas cache.SharedIndexInformer
}

func newInformers(dyn dynamic.Interface, s informerSettings) *informers {
	mk := func(gvr schema.GroupVersionResource, transform cache.TransformFunc) cache.SharedIndexInformer {
		return kwatch.Informer(dyn.Resource(gvr), kwatch.InformerOptions{
			Selector: labSelector, WatchTimeout: s.watchTimeout, Resync: s.resync,
			Description: gvr.Resource, Transform: transform, Client: dyn,
		})
	}
	i := &informers{
		namespaces: mk(namespacesGVR, slimMeta),
		pods:       mk(podsGVR, slimPod),
		configMaps: mk(configMapsGVR, slimConfigMap),
		quotas:     mk(quotasGVR, slimQuota),
	}
	_, _ = i.pods.AddEventHandler(kwatch.Handler(func(pod *unstructured.Unstructured, deleted bool) {
		if s.onPod == nil {
			return
		}
		ns, name := pod.GetNamespace(), pod.GetName()
		if deleted {
			pod = nil
		}
		s.onPod(ns, name, pod)
	}))
	return i
}

// run starts the informers under ctx, counting them in wg.
func (i *informers) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, inf := range i.all() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inf.RunWithContext(ctx)
		}()
	}
}

func (i *informers) all() []cache.SharedIndexInformer {
	return []cache.SharedIndexInformer{i.namespaces, i.pods, i.configMaps, i.quotas}
}

// waitSynced waits until every informer has delivered its initial list.
func (i *informers) waitSynced(ctx context.Context) error {
	for _, inf := range i.all() {
		if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
			return fmt.Errorf("waiting for the lab object caches: %w", context.Cause(ctx))
		}
	}
	return nil
}

func (i *informers) namespace(name string) *unstructured.Unstructured {
	return kwatch.Cached(i.namespaces, "", name)
}

func (i *informers) pod(namespace, name string) *unstructured.Unstructured {
	return kwatch.Cached(i.pods, namespace, name)
}

func (i *informers) configMap(namespace, name string) *unstructured.Unstructured {
	return kwatch.Cached(i.configMaps, namespace, name)
}

func (i *informers) quota(namespace, name string) *unstructured.Unstructured {
	return kwatch.Cached(i.quotas, namespace, name)
}

// labNamespaces returns the names of the cached lab namespaces.
func (i *informers) labNamespaces() []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, obj := range i.namespaces.GetStore().List() {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// The transforms keep in the caches only what the manager reads, so that a
// thousand labs cost little memory: never managedFields; of a pod its
// metadata, the names and security contexts of its containers, and its
// phase; the data of the env ConfigMaps only; the hard limits of a quota.

func slimMeta(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	delete(u.Object, "spec")
	delete(u.Object, "status")
	return u, nil
}

func slimPod(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "containers")
	kept := make([]any, 0, len(containers))
	for _, c := range containers {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		k := map[string]any{"name": m["name"]}
		if sc, ok := m["securityContext"]; ok {
			k["securityContext"] = sc
		}
		kept = append(kept, k)
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	u.Object["spec"] = map[string]any{"containers": kept}
	u.Object["status"] = map[string]any{"phase": phase}
	return u, nil
}

func slimConfigMap(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	delete(u.Object, "binaryData")
	if !strings.HasSuffix(u.GetName(), envConfigMapSuffix) {
		delete(u.Object, "data")
	}
	return u, nil
}

func slimQuota(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	hard, _, _ := unstructured.NestedMap(u.Object, "spec", "hard")
	u.Object["spec"] = map[string]any{"hard": hard}
	delete(u.Object, "status")
	return u, nil
}
