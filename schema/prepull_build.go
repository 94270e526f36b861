package schema

import (
	"errors"
	"fmt"
	"strings"
)

// ErrIncompleteRequest is wrapped by the errors of the fsadmin and prepull
// input builders when a required value is empty.
var ErrIncompleteRequest = errors.New("incomplete request")

// maxObjectName is the longest name of a Kubernetes object that is a DNS
// subdomain, such as a Pod.
const maxObjectName = 253

// PrepullRequest is one image to pull onto one node.
type PrepullRequest struct {
	// Namespace is the controller's namespace, where prepull pods run.
	Namespace string
	// OwnerName and OwnerUID identify the controller's own pod (the
	// pod-metadata files name and uid), the owner of every prepull pod.
	OwnerName, OwnerUID string
	// Image is the reference with digest,
	// registry/repository:tag@sha256:....
	Image string
	// Tag is the image's tag; it names the pod.
	Tag string
	// Node is the name of the node to pull the image onto.
	Node string
}

// PrepullInput builds the input of the prepull template (§3.8). The pod's
// pull secret (lab.pullSecret) and tolerations (lab.tolerations) come from
// the configuration the templates hold, so c is not read. An empty field of
// req is an error wrapping [ErrIncompleteRequest].
func (c *Config) PrepullInput(req PrepullRequest) (*PrepullInput, error) {
	for _, f := range []struct{ name, value string }{
		{"namespace", req.Namespace}, {"owner name", req.OwnerName}, {"owner uid", req.OwnerUID},
		{"image", req.Image}, {"tag", req.Tag}, {"node", req.Node},
	} {
		if f.value == "" {
			return nil, fmt.Errorf("prepull: %w: the %s is empty", ErrIncompleteRequest, f.name)
		}
	}
	return &PrepullInput{
		Name:      PrepullPodName(req.Tag, req.Node),
		Namespace: req.Namespace,
		Owner:     OwnerRef{Name: req.OwnerName, UID: req.OwnerUID},
		Image:     req.Image,
		Node:      req.Node,
	}, nil
}

// PrepullPodName returns the name of the pod that pulls the image with
// this tag onto node: prepull-{tag}-{node}, where every "_" of the tag
// becomes "-" and every character outside [A-Za-z0-9_.-] is dropped, cut
// to 253 characters.
func PrepullPodName(tag, node string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r == '_':
			return '-'
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return -1
	}, tag)
	name := "prepull-" + clean + "-" + node
	if r := []rune(name); len(r) > maxObjectName {
		name = string(r[:maxObjectName])
	}
	return name
}
