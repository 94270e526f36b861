package apply

import (
	"context"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	serviceAccounts = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	resourceQuotas  = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	crds            = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// prepareWorkloads waits, before Pods and Jobs are applied, for what
// admission will check: in namespaces this apply created, the
// ServiceAccount each workload runs as (unless the set itself holds it), and
// in every namespace with workloads, the quotas this apply created or
// changed until the quota controller has computed their status.
func (r *applyRun) prepareWorkloads(ctx context.Context, workloads, targets []*target) error {
	inSet := map[ObjectRef]bool{}
	for _, t := range targets {
		inSet[t.ref] = true
	}
	seen := map[ObjectRef]bool{}
	var waits []func() error
	for _, t := range workloads {
		ns := t.ref.Namespace
		sa := ObjectRef{Kind: "ServiceAccount", Namespace: ns, Name: serviceAccount(t.obj)}
		if r.createdNamespace(ns) && !inSet[sa] && !seen[sa] {
			seen[sa] = true
			waits = append(waits, func() error { return r.a.waitServiceAccount(ctx, ns, sa.Name) })
		}
		nsRef := ObjectRef{Kind: "Namespace", Name: ns}
		if seen[nsRef] {
			continue
		}
		seen[nsRef] = true
		for _, q := range r.quotas[ns] {
			waits = append(waits, func() error { return r.a.waitQuota(ctx, q) })
		}
	}
	return all(waits)
}

// serviceAccount returns the ServiceAccount a Pod or Job runs as.
func serviceAccount(obj *unstructured.Unstructured) string {
	path := []string{"spec", "serviceAccountName"}
	if obj.GetKind() == "Job" {
		path = []string{"spec", "template", "spec", "serviceAccountName"}
	}
	if name, _, _ := unstructured.NestedString(obj.Object, path...); name != "" {
		return name
	}
	return "default"
}

// missingServiceAccount recognises admission refusing a pod because its
// ServiceAccount does not exist (yet).
func missingServiceAccount(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "error looking up service account")
}

// waitServiceAccount waits until the ServiceAccount exists.
func (a *Applier) waitServiceAccount(ctx context.Context, namespace, name string) error {
	ri := a.dyn.Resource(serviceAccounts).Namespace(namespace)
	err := a.watchObject(ctx, ri, name, func(obj *unstructured.Unstructured) (bool, error) {
		return obj != nil, nil
	})
	if err != nil {
		ref := ObjectRef{Kind: "ServiceAccount", Namespace: namespace, Name: name}
		return NewObjectError("waiting for object", ref, err)
	}
	return nil
}

// quotaSynced reports whether a ResourceQuota's status.hard matches its
// spec.hard, that is, whether admission can use it.
func quotaSynced(obj *unstructured.Unstructured) bool {
	spec, _, _ := unstructured.NestedStringMap(obj.Object, "spec", "hard")
	status, _, _ := unstructured.NestedStringMap(obj.Object, "status", "hard")
	if len(spec) != len(status) {
		return false
	}
	for k, v := range spec {
		w, ok := status[k]
		if !ok {
			return false
		}
		q1, err1 := resource.ParseQuantity(v)
		q2, err2 := resource.ParseQuantity(w)
		if err1 != nil || err2 != nil || q1.Cmp(q2) != 0 {
			return false
		}
	}
	return true
}

// waitQuota waits until the quota controller has computed the status of a
// quota (quotaSynced).
func (a *Applier) waitQuota(ctx context.Context, quota *unstructured.Unstructured) error {
	ri := a.dyn.Resource(resourceQuotas).Namespace(quota.GetNamespace())
	err := a.watchObject(ctx, ri, quota.GetName(), func(obj *unstructured.Unstructured) (bool, error) {
		return obj == nil || quotaSynced(obj), nil
	})
	if err != nil {
		return NewObjectError("waiting for object", Ref(quota), err)
	}
	return nil
}

// waitEstablished waits until the CustomResourceDefinitions that were
// created or configured are Established, so that their kinds can be used.
func (a *Applier) waitEstablished(ctx context.Context, changes []Change) error {
	var waits []func() error
	for _, c := range changes {
		if c.Object.Kind != "CustomResourceDefinition" || c.Action == Unchanged {
			continue
		}
		name := c.Object.Name
		ref := c.Object
		waits = append(waits, func() error {
			err := a.watchObject(ctx, a.dyn.Resource(crds), name, func(obj *unstructured.Unstructured) (bool, error) {
				return obj != nil && conditionTrue(obj, "Established"), nil
			})
			if err != nil {
				return NewObjectError("waiting for object", ref, err)
			}
			return nil
		})
	}
	return all(waits)
}

// conditionTrue reports whether obj has status condition typ with status
// "True".
func conditionTrue(obj *unstructured.Unstructured, typ string) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ && m["status"] == "True" {
			return true
		}
	}
	return false
}
