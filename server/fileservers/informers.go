package fileservers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/server/kwatch"
)

var (
	podsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	jobsGVR      = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	ingressesGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	servicesGVR  = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	pvcsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}

	gafaelfawrIngressesGVR = schema.GroupVersionResource{
		Group: "gafaelfawr.lsst.io", Version: "v1alpha1", Resource: "gafaelfawringresses",
	}
)

// Labels of file-server objects (§3.1) and of a Job's pods.
const (
	LabelCategory      = "nublado.lsst.io/category"
	LabelUser          = "nublado.lsst.io/user"
	CategoryFileserver = "fileserver"
	// LabelJobName is the label Kubernetes gives a Job's pods.
	LabelJobName = "job-name"
)

// fileserverSelector selects file-server objects.
const fileserverSelector = LabelCategory + "=" + CategoryFileserver

// byJob is the pod index by the job-name label.
const byJob = "job"

// informers watch the file servers' namespace: the file-server pods
// (label selector nublado.lsst.io/category=fileserver), indexed by Job,
// and every Ingress (Gafaelfawr's operator makes them from the
// GafaelfawrIngresses; the namespace holds file servers only). Their
// watch requests end cleanly within watchReconnectTimeout
// (kwatch.Bounded), so that a watch that went silent is replaced. Their
// caches hold slimmed objects: metadata without managedFields, a pod's
// phase, an Ingress's load-balancer status.
type informers struct {
	pods, ingresses cache.SharedIndexInformer
}

func newInformers(dyn dynamic.Interface, namespace string, watchTimeout time.Duration, m *Manager) *informers {
	mk := func(gvr schema.GroupVersionResource, selector string, transform cache.TransformFunc, idx cache.Indexers) cache.SharedIndexInformer {
		return kwatch.Informer(dyn.Resource(gvr).Namespace(namespace), kwatch.InformerOptions{
			Selector: selector, WatchTimeout: watchTimeout, Description: gvr.Resource,
			Indexers: idx, Transform: transform, Client: dyn,
		})
	}
	i := &informers{
		pods:      mk(podsGVR, fileserverSelector, slimPod, cache.Indexers{byJob: jobIndex}),
		ingresses: mk(ingressesGVR, "", slimIngress, cache.Indexers{}),
	}
	_, _ = i.pods.AddEventHandler(kwatch.Handler(func(obj *unstructured.Unstructured, deleted bool) {
		m.onPod(obj, deleted)
	}))
	_, _ = i.ingresses.AddEventHandler(kwatch.Handler(func(obj *unstructured.Unstructured, _ bool) {
		if user, ok := strings.CutSuffix(obj.GetName(), nameSuffix); ok {
			m.changed(user)
		}
	}))
	return i
}

// jobIndex indexes pods by their job-name label.
func jobIndex(obj any) ([]string, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		if job := u.GetLabels()[LabelJobName]; job != "" {
			return []string{job}, nil
		}
	}
	return nil, nil
}

// run starts the informers under ctx, counting them in wg.
func (i *informers) run(ctx context.Context, wg *sync.WaitGroup) {
	for _, inf := range []cache.SharedIndexInformer{i.pods, i.ingresses} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inf.RunWithContext(ctx)
		}()
	}
}

// waitSynced waits until both informers have delivered their initial list.
func (i *informers) waitSynced(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), i.pods.HasSynced, i.ingresses.HasSynced) {
		return fmt.Errorf("waiting for the file-server caches: %w", context.Cause(ctx))
	}
	return nil
}

// ingress returns the cached Ingress of that name, or nil.
func (i *informers) ingress(namespace, name string) *unstructured.Unstructured {
	return kwatch.Cached(i.ingresses, namespace, name)
}

// jobPods returns the cached pods of the Job of that name.
func (i *informers) jobPods(job string) []*unstructured.Unstructured {
	objs, _ := i.pods.GetIndexer().ByIndex(byJob, job)
	out := make([]*unstructured.Unstructured, 0, len(objs))
	for _, obj := range objs {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			out = append(out, u)
		}
	}
	return out
}

// ingressIP returns the first load-balancer IP of an Ingress, "" when it
// has none.
func ingressIP(ing *unstructured.Unstructured) string {
	lb, _, _ := unstructured.NestedSlice(ing.Object, "status", "loadBalancer", "ingress")
	if len(lb) == 0 {
		return ""
	}
	first, _ := lb[0].(map[string]any)
	ip, _ := first["ip"].(string)
	return ip
}

// ownerJob returns the UID of the Job that owns a pod, "" when none does.
func ownerJob(pod *unstructured.Unstructured) types.UID {
	for _, ref := range pod.GetOwnerReferences() {
		if ref.Kind == "Job" {
			return ref.UID
		}
	}
	return ""
}

// slimPod keeps a pod's metadata (without managedFields and annotations)
// and phase.
func slimPod(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	u.SetAnnotations(nil)
	phase := apply.PodPhase(u)
	delete(u.Object, "spec")
	u.Object["status"] = map[string]any{"phase": string(phase)}
	return u, nil
}

// slimIngress keeps an Ingress's metadata (without managedFields and
// annotations) and load-balancer status.
func slimIngress(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	u.SetAnnotations(nil)
	delete(u.Object, "spec")
	lb, _, _ := unstructured.NestedMap(u.Object, "status", "loadBalancer")
	u.Object["status"] = map[string]any{"loadBalancer": lb}
	return u, nil
}
