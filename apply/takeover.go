package apply

import (
	"bytes"
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/csaupgrade"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// takeOver makes the Applier's field manager the owner of everything that
// earlier writers of the object's content own, given the object as the
// apply just returned it.
//
// An object created or edited with a plain create/update/patch is managed
// by Update-operation entries; server-side apply with force takes the
// fields it sets from them but leaves them every other field, so a field
// that a new version of the object no longer sets would never be removed.
// Every Update entry of the main resource that shares a leaf field with
// nublado's apply entry (it wrote some of nublado's content with the same
// value) is therefore merged into nublado's entry with the
// client-go csaupgrade migration, and the object is applied once more;
// fields nublado no longer sets are then removed. Entries that share no
// field with nublado (controllers that annotate, `kubectl label`) are left
// alone.
//
// It returns the object after the takeover and whether one happened.
func (a *Applier) takeOver(ctx context.Context, t *target, ri dynamic.ResourceInterface,
	res *unstructured.Unstructured) (*unstructured.Unstructured, bool, error) {
	for attempt := 0; ; attempt++ {
		managers, err := a.predecessors(res)
		if err != nil || managers.Len() == 0 {
			return res, false, err
		}
		patch, err := csaupgrade.UpgradeManagedFieldsPatch(res, managers, a.o.fieldManager)
		if err != nil || patch == nil {
			return res, false, err
		}
		err = a.retry(ctx, func(ctx context.Context) error {
			_, err := ri.Patch(ctx, t.ref.Name, types.JSONPatchType, patch, metav1.PatchOptions{})
			return err
		})
		if apierrors.IsConflict(err) && attempt < 5 {
			// The object changed since it was applied: look again.
			if res, err = a.get(ctx, ri, t.ref.Name); err != nil || res == nil {
				return res, false, err
			}
			continue
		}
		if err != nil {
			return res, false, err
		}
		res, err = a.ssa(ctx, t, ri, false)
		return res, err == nil, err
	}
}

// predecessors returns the managers of Update entries of obj's main
// resource that share a leaf field with the Applier's apply entry.
func (a *Applier) predecessors(obj *unstructured.Unstructured) (sets.Set[string], error) {
	entries := obj.GetManagedFields()
	var ours *fieldpath.Set
	for _, e := range entries {
		if e.Manager == a.o.fieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "" {
			s, err := fieldSet(e)
			if err != nil {
				return nil, err
			}
			ours = s.Leaves()
		}
	}
	managers := sets.New[string]()
	if ours == nil {
		return managers, nil
	}
	for _, e := range entries {
		if e.Operation != metav1.ManagedFieldsOperationUpdate || e.Subresource != "" || e.Manager == a.o.fieldManager {
			continue
		}
		s, err := fieldSet(e)
		if err != nil {
			return nil, err
		}
		if !s.Leaves().Intersection(ours).Empty() {
			managers.Insert(e.Manager)
		}
	}
	return managers, nil
}

// fieldSet decodes the fields of a managedFields entry.
func fieldSet(e metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if e.FieldsV1 == nil {
		return s, nil
	}
	if err := s.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
		return nil, fmt.Errorf("decoding managed fields of %q: %w", e.Manager, err)
	}
	return s, nil
}
