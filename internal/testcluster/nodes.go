package testcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// NodeAnnotation marks a node as simulated by kwok; AddNode sets it to "fake".
const NodeAnnotation = "kwok.x-k8s.io/node"

// Node describes a fake node that kwok runs pods on.
type Node struct {
	// Name is the node name (required).
	Name string
	// Labels are added to the defaults kubernetes.io/hostname=<Name>,
	// kubernetes.io/os=linux, kubernetes.io/arch=amd64 and type=kwok.
	Labels map[string]string
	// Taints go into spec.taints as given.
	Taints []corev1.Taint
	// Images go into status.images (names and sizeBytes), as a kubelet
	// reports the images present on the node.
	Images []corev1.ContainerImage
	// Capacity is the node's capacity and allocatable. Default: 32 CPUs,
	// 256Gi memory, 110 pods.
	Capacity corev1.ResourceList
}

// DefaultNodes returns n plain nodes named kwok-node-0 ... kwok-node-(n-1).
func DefaultNodes(n int) []Node {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i] = Node{Name: "kwok-node-" + strconv.Itoa(i)}
	}
	return nodes
}

// AddNode creates a fake node and waits until kwok has marked it Ready and
// the node lifecycle controller has removed the node.kubernetes.io/not-ready
// taint that every new node starts with, so pods can be scheduled on it.
func (c *Cluster) AddNode(ctx context.Context, n Node) (*corev1.Node, error) {
	if err := c.createNode(ctx, n); err != nil {
		return nil, err
	}
	return c.waitNodeUsable(ctx, n.Name)
}

func (c *Cluster) createNode(ctx context.Context, n Node) error {
	if n.Name == "" {
		return fmt.Errorf("adding node: name is required")
	}
	capacity := n.Capacity
	if capacity == nil {
		capacity = corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("32"),
			corev1.ResourceMemory: resource.MustParse("256Gi"),
			corev1.ResourcePods:   resource.MustParse("110"),
		}
	}
	labels := map[string]string{
		"kubernetes.io/hostname": n.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"type":                   "kwok",
	}
	maps.Copy(labels, n.Labels)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        n.Name,
			Labels:      labels,
			Annotations: map[string]string{NodeAnnotation: "fake"},
		},
		Spec: corev1.NodeSpec{Taints: n.Taints},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Images:      n.Images,
		},
	}
	if _, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating node %q: %w", n.Name, err)
	}
	return nil
}

// waitNodeUsable waits until a node is Ready and no longer tainted not-ready.
func (c *Cluster) waitNodeUsable(ctx context.Context, name string) (*corev1.Node, error) {
	var ready *corev1.Node
	err := c.poll(ctx, fmt.Sprintf("node %q to become Ready", name), func(ctx context.Context) (bool, error) {
		got, err := c.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, fmt.Errorf("getting node %q: %w", name, err)
		}
		ready = got
		return nodeReady(got) && !hasTaint(got, corev1.TaintNodeNotReady), nil
	})
	return ready, err
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func hasTaint(n *corev1.Node, key string) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key {
			return true
		}
	}
	return false
}

// RemoveNode deletes a node; kube-controller-manager then deletes its pods.
// A node that does not exist is not an error.
func (c *Cluster) RemoveNode(ctx context.Context, name string) error {
	err := c.client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting node %q: %w", name, err)
	}
	return nil
}

// SetNodeImages replaces status.images of a node, as a kubelet does after
// pulling or garbage-collecting images.
func (c *Cluster) SetNodeImages(ctx context.Context, name string, images []corev1.ContainerImage) error {
	if images == nil {
		images = []corev1.ContainerImage{}
	}
	patch, err := json.Marshal(map[string]any{"status": map[string]any{"images": images}})
	if err != nil {
		return fmt.Errorf("encoding images of node %q: %w", name, err)
	}
	_, err = c.client.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("setting images of node %q: %w", name, err)
	}
	return nil
}

// SetNodesSchedulable cordons (false) or uncordons (true) every node. While
// the nodes are cordoned new pods stay Pending with condition PodScheduled
// False (reason Unschedulable); uncordoning lets the scheduler bind them.
// This holds pods whose manifests a test does not control; see also
// HoldAnnotation.
func (c *Cluster) SetNodesSchedulable(ctx context.Context, schedulable bool) error {
	nodes, err := c.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	patch := fmt.Appendf(nil, `{"spec":{"unschedulable":%t}}`, !schedulable)
	for _, n := range nodes.Items {
		_, err := c.client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			return fmt.Errorf("setting node %q unschedulable=%t: %w", n.Name, !schedulable, err)
		}
	}
	return nil
}
