package testcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

var crdResource = schema.GroupVersionResource{
	Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions",
}

// InstallCRDs applies (server-side, field manager "testcluster") every
// CustomResourceDefinition in the *.yaml and *.yml files of dir, in file
// name order, and waits until each is established. Any other kind of object
// is an error.
func (c *Cluster) InstallCRDs(ctx context.Context, dir string) error {
	files, err := yamlFiles(dir)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		return fmt.Errorf("creating dynamic client: %w", err)
	}
	crds := dyn.Resource(crdResource)
	for _, file := range files {
		objs, err := readObjects(file)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if err := applyCRD(ctx, crds, obj); err != nil {
				return fmt.Errorf("%s: %w", filepath.Base(file), err)
			}
			if err := c.waitEstablished(ctx, crds, obj.GetName()); err != nil {
				return err
			}
		}
	}
	return nil
}

func yamlFiles(dir string) ([]string, error) {
	var files []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	return files, nil
}

// readObjects decodes every non-empty YAML document of a file.
func readObjects(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading CRD file: %w", err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return objs, nil
		} else if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", filepath.Base(file), err)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

func applyCRD(ctx context.Context, crds dynamic.NamespaceableResourceInterface, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	if gvk.Group != crdResource.Group || gvk.Kind != "CustomResourceDefinition" {
		return fmt.Errorf("%s %q is not a CustomResourceDefinition", gvk.Kind, obj.GetName())
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encoding CRD %q: %w", obj.GetName(), err)
	}
	force := true
	_, err = crds.Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: "testcluster", Force: &force})
	if err != nil {
		return fmt.Errorf("applying CRD %q: %w", obj.GetName(), err)
	}
	return nil
}

func (c *Cluster) waitEstablished(ctx context.Context, crds dynamic.NamespaceableResourceInterface, name string) error {
	return c.poll(ctx, fmt.Sprintf("CRD %q to be established", name), func(ctx context.Context) (bool, error) {
		obj, err := crds.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("getting CRD %q: %w", name, err)
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		return false, nil
	})
}

// resolveCRDDir turns Options.CRDDir into a directory to install from, or ""
// for none.
func resolveCRDDir(dir string) (string, error) {
	switch dir {
	case "-":
		return "", nil
	case "":
		root, err := RepoRoot()
		if err != nil {
			return "", nil //nolint:nilerr // outside the repository there is no default
		}
		dir = filepath.Join(root, "deploy", "crds")
		if _, err := os.Stat(dir); err != nil {
			return "", nil //nolint:nilerr // the directory is optional
		}
	}
	return dir, nil
}
