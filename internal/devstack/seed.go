package devstack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
)

// SeedOptions says how [Stack.Seed] prepares the cluster.
type SeedOptions struct {
	// Namespace is the controller's namespace (default "nublado").
	Namespace string
	// PodName is the name of the stand-in controller pod (default
	// "nublado-controller").
	PodName string
	// MetadataDir receives the pod-metadata files name, namespace and uid
	// (the controller's metadataPath). Required.
	MetadataDir string
	// PullSecret, when set, is the name of a kubernetes.io/dockerconfigjson
	// Secret created in Namespace with the registry credentials (the
	// config's lab.pullSecret).
	PullSecret string
	// FileserverNamespace, when set, is created for the file servers (the
	// config's fileserver.namespace, which must exist).
	FileserverNamespace string
	// Everywhere are the tags whose images every node has; Some are the
	// tags whose images only the first half of the nodes (sorted by name,
	// rounded up) have. Defaults: recommended and r29_1_0 everywhere,
	// w_2025_44 on some.
	Everywhere, Some []string
}

func (o SeedOptions) withDefaults() SeedOptions {
	if o.Namespace == "" {
		o.Namespace = "nublado"
	}
	if o.PodName == "" {
		o.PodName = "nublado-controller"
	}
	if o.Everywhere == nil && o.Some == nil {
		o.Everywhere = []string{"recommended", "r29_1_0"}
		o.Some = []string{"w_2025_44"}
	}
	return o
}

// Seed prepares the cluster as a Science Platform deployment would: the
// controller's namespace with a stand-in controller pod (kwok runs it),
// the pod-metadata files of that pod, the pull secret, the file servers'
// namespace, and status.images of every node, as kubelets report the
// images they have. It can be run again (objects that exist are kept, the
// secret and images are updated).
func (s *Stack) Seed(ctx context.Context, client kubernetes.Interface, opts SeedOptions) error {
	opts = opts.withDefaults()
	if opts.MetadataDir == "" {
		return fmt.Errorf("seeding the cluster: no metadata directory")
	}
	if err := ensureNamespace(ctx, client, opts.Namespace); err != nil {
		return err
	}
	pod, err := ensurePod(ctx, client, opts.Namespace, opts.PodName)
	if err != nil {
		return err
	}
	if err := writeMetadata(opts.MetadataDir, pod); err != nil {
		return err
	}
	if opts.PullSecret != "" {
		if err := s.ensurePullSecret(ctx, client, opts.Namespace, opts.PullSecret); err != nil {
			return err
		}
	}
	if opts.FileserverNamespace != "" {
		if err := ensureNamespace(ctx, client, opts.FileserverNamespace); err != nil {
			return err
		}
	}
	return s.seedNodeImages(ctx, client, opts.Everywhere, opts.Some)
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	_, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %q: %w", name, err)
	}
	return nil
}

// ensurePod creates the stand-in controller pod unless it exists.
func ensurePod(ctx context.Context, client kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	pods := client.CoreV1().Pods(namespace)
	if pod, err := pods.Get(ctx, name, metav1.GetOptions{}); err == nil {
		return pod, nil
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading pod %s/%s: %w", namespace, name, err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/name": "nublado"}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "controller",
				Image: "ghcr.io/lsst-sqre/nublado:devstack",
				Args:  []string{"nublado", "serve"},
			}},
		},
	}
	created, err := pods.Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating pod %s/%s: %w", namespace, name, err)
	}
	return created, nil
}

// writeMetadata writes the downward-API files of the pod.
func writeMetadata(dir string, pod *corev1.Pod) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating metadata directory: %w", err)
	}
	for file, value := range map[string]string{"name": pod.Name, "namespace": pod.Namespace, "uid": string(pod.UID)} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(value+"\n"), 0o644); err != nil {
			return fmt.Errorf("writing metadata: %w", err)
		}
	}
	return nil
}

func (s *Stack) ensurePullSecret(ctx context.Context, client kubernetes.Interface, namespace, name string) error {
	data, err := s.Credentials.MarshalJSON()
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: data},
	}
	secrets := client.CoreV1().Secrets(namespace)
	_, err = secrets.Create(ctx, secret, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = secrets.Update(ctx, secret, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing secret %s/%s: %w", namespace, name, err)
	}
	return nil
}

// seedNodeImages sets status.images of every node: the images of
// everywhere on all, those of some on the first half.
func (s *Stack) seedNodeImages(ctx context.Context, client kubernetes.Interface, everywhere, some []string) error {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	names := make([]string, 0, len(list.Items))
	for _, n := range list.Items {
		names = append(names, n.Name)
	}
	sort.Strings(names)
	for i, node := range names {
		tags := slices.Clone(everywhere)
		if i < (len(names)+1)/2 {
			tags = append(tags, some...)
		}
		imgs, err := s.NodeImages(tags...)
		if err != nil {
			return err
		}
		patch, err := json.Marshal(map[string]any{"status": map[string]any{"images": imgs}})
		if err != nil {
			return err
		}
		_, err = client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		if err != nil {
			return fmt.Errorf("setting images of node %q: %w", node, err)
		}
	}
	return nil
}

// NodeImages returns the status.images entries of a node that has the
// images of tags: one entry per image, named by every tag pointing at it
// and by its digest, as a kubelet lists them.
func (s *Stack) NodeImages(tags ...string) ([]corev1.ContainerImage, error) {
	repo := s.RegistryHost + "/" + s.Repository
	var out []corev1.ContainerImage
	seen := map[string]bool{}
	for _, tag := range tags {
		digest, ok := s.Digests[tag]
		if !ok {
			return nil, fmt.Errorf("no tag %q in the development registry", tag)
		}
		if seen[digest] {
			continue
		}
		seen[digest] = true
		var names []string
		for _, t := range sortedKeys(s.Digests) {
			if s.Digests[t] == digest {
				names = append(names, repo+":"+t)
			}
		}
		names = append(names, repo+"@"+digest)
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: 1 << 30})
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
