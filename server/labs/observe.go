package labs

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sirupsen/logrus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/schema/units"
)

// Names and keys that reconcile reads back from a lab (§3).
const (
	envConfigMapSuffix = "-nb-env"
	containerName      = "notebook"
	annotationGroups   = "nublado.lsst.io/user-groups"
	annotationName     = "nublado.lsst.io/user-name"
)

// labObjects are the objects a lab's state is rebuilt from; any may be nil.
type labObjects struct {
	env, pod, quota *unstructured.Unstructured
}

// cached returns the user's lab objects from the informer caches.
func (m *Manager) cached(user string) labObjects {
	ns := m.namespace(user)
	return labObjects{
		env:   m.inf.configMap(ns, user+envConfigMapSuffix),
		pod:   m.inf.pod(ns, podName(user)),
		quota: m.inf.quota(ns, user+"-nb"),
	}
}

// IncompleteLabError says why a lab namespace's objects do not make a lab.
type IncompleteLabError struct {
	Namespace string
	Reason    string
}

// Error names the namespace and what is missing.
func (e *IncompleteLabError) Error() string {
	return fmt.Sprintf("incomplete lab in namespace %s: %s", e.Namespace, e.Reason)
}

// observe rebuilds a lab's state from its objects (§4.7 step 2): resources,
// image and options from the env ConfigMap, the user from the pod (uid and
// gid of the notebook container, name and groups from annotations), the
// status from the pod's phase, and the quota from the ResourceQuota.
// Kubernetes quantities are parsed as quantities (decision D10). Anything
// missing or unparsable is an *IncompleteLabError.
func (m *Manager) observe(user string, objs labObjects) (*nublado.LabState, error) {
	ns := m.namespace(user)
	bad := func(format string, args ...any) error {
		return &IncompleteLabError{Namespace: ns, Reason: fmt.Sprintf(format, args...)}
	}
	if objs.env == nil {
		return nil, bad("no ConfigMap %s%s", user, envConfigMapSuffix)
	}
	if objs.pod == nil {
		return nil, bad("no Pod %s", podName(user))
	}
	env, _, _ := unstructured.NestedStringMap(objs.env.Object, "data")
	s := &nublado.LabState{User: nublado.UserInfo{Username: user}}
	var err error
	if s.Resources, err = resourcesFromEnv(env); err != nil {
		return nil, bad("%v", err)
	}
	image, ok := env["JUPYTER_IMAGE_SPEC"]
	prefix, ok2 := env[servicePrefixVar]
	if !ok || !ok2 {
		return nil, bad("JUPYTER_IMAGE_SPEC or %s missing from the environment", servicePrefixVar)
	}
	s.Options = nublado.LabOptions{
		Size: m.sizeOf(s.Resources), Image: image,
		EnableDebug: env["DEBUG"] == "TRUE", ResetUserEnv: env["RESET_USER_ENV"] == "TRUE",
	}
	url := internalURL(ns, prefix)
	s.InternalURL = &url
	if err := userFromPod(&s.User, objs.pod); err != nil {
		return nil, bad("%v", err)
	}
	s.Status = phaseStatus(apply.PodPhase(objs.pod))
	if objs.quota != nil {
		if s.Quota, err = quotaOf(objs.quota); err != nil {
			return nil, bad("%v", err)
		}
	}
	return s, nil
}

// resourcesFromEnv reads CPU_LIMIT, MEM_LIMIT, CPU_GUARANTEE and
// MEM_GUARANTEE.
func resourcesFromEnv(env map[string]string) (nublado.LabResources, error) {
	var r nublado.LabResources
	for _, f := range []struct {
		key string
		cpu *float64
		mem *int64
	}{
		{"CPU_LIMIT", &r.Limits.CPU, nil}, {"MEM_LIMIT", nil, &r.Limits.Memory},
		{"CPU_GUARANTEE", &r.Requests.CPU, nil}, {"MEM_GUARANTEE", nil, &r.Requests.Memory},
	} {
		v, ok := env[f.key]
		if !ok {
			return r, fmt.Errorf("%s missing from the environment", f.key)
		}
		if f.cpu != nil {
			c, err := units.QuantityCPU(v)
			if err != nil {
				return r, fmt.Errorf("%s: %w", f.key, err)
			}
			*f.cpu = float64(c)
			continue
		}
		b, err := units.QuantityBytes(v)
		if err != nil {
			return r, fmt.Errorf("%s: %w", f.key, err)
		}
		*f.mem = b
	}
	return r, nil
}

// sizeOf returns the configured size whose limits and requests are r, or
// custom.
func (m *Manager) sizeOf(r nublado.LabResources) nublado.LabSize {
	milli := func(f float64) int64 { return units.CPU(f).Millicores() }
	for _, s := range m.cfg.Lab.Sizes {
		l, q := s.Resources.Limits, s.Resources.Requests
		if l.CPU.Millicores() == milli(r.Limits.CPU) && l.Memory == r.Limits.Memory &&
			q.CPU.Millicores() == milli(r.Requests.CPU) && q.Memory == r.Requests.Memory {
			return nublado.LabSize(s.Size)
		}
	}
	return "custom"
}

// userFromPod reads the uid and gid of the notebook container and the
// name and groups annotations.
func userFromPod(u *nublado.UserInfo, pod *unstructured.Unstructured) error {
	containers, _, _ := unstructured.NestedSlice(pod.Object, "spec", "containers")
	found := false
	for _, c := range containers {
		cm, ok := c.(map[string]any)
		if !ok || cm["name"] != containerName {
			continue
		}
		uid, ok1, _ := unstructured.NestedInt64(cm, "securityContext", "runAsUser")
		gid, ok2, _ := unstructured.NestedInt64(cm, "securityContext", "runAsGroup")
		if !ok1 || !ok2 {
			return fmt.Errorf("container %s has no runAsUser or runAsGroup", containerName)
		}
		u.UID, u.GID, found = uid, gid, true
	}
	if !found {
		return fmt.Errorf("pod has no container %s", containerName)
	}
	ann := pod.GetAnnotations()
	if name, ok := ann[annotationName]; ok {
		u.Name = &name
	}
	u.Groups = []nublado.Group{}
	if g, ok := ann[annotationGroups]; ok {
		if err := json.Unmarshal([]byte(g), &u.Groups); err != nil {
			return fmt.Errorf("annotation %s: %w", annotationGroups, err)
		}
	}
	return nil
}

// quotaOf reads the hard limits of a lab's ResourceQuota.
func quotaOf(q *unstructured.Unstructured) (*nublado.ResourceAmounts, error) {
	hard, _, _ := unstructured.NestedStringMap(q.Object, "spec", "hard")
	cpu, err := units.QuantityCPU(hard["limits.cpu"])
	if err != nil {
		return nil, fmt.Errorf("quota limits.cpu: %w", err)
	}
	mem, err := units.QuantityBytes(hard["limits.memory"])
	if err != nil {
		return nil, fmt.Errorf("quota limits.memory: %w", err)
	}
	return &nublado.ResourceAmounts{CPU: float64(cpu), Memory: mem}, nil
}

// userOf returns the user of a lab namespace name ({prefix}-{user}).
func (m *Manager) userOf(namespace string) (string, bool) {
	user, ok := strings.CutPrefix(namespace, m.cfg.Lab.NamespacePrefix+"-")
	return user, ok && user != ""
}

// onPod keeps a lab's status in step with its pod (decision D18): it wakes
// the operations waiting for the pod and, when no operation is in
// progress, maps the pod's phase to the status (§4.1): a lab that is not
// failed or terminating takes its pod's status, and a pending or running
// lab whose pod is gone becomes failed. Reconcile reaps terminated and
// failed labs.
func (m *Manager) onPod(namespace, name string, pod *unstructured.Unstructured) {
	user, ok := m.userOf(namespace)
	if !ok || name != podName(user) {
		return
	}
	rec := m.lookup(user)
	if rec == nil {
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.notifyPod()
	if rec.state == nil || rec.op != nil {
		return
	}
	cur := rec.state.Status
	next := cur
	switch {
	case cur == nublado.LabFailed || cur == nublado.LabTerminating:
	case pod == nil:
		if cur == nublado.LabPending || cur == nublado.LabRunning {
			next = nublado.LabFailed
		}
	default:
		next = phaseStatus(apply.PodPhase(pod))
	}
	if next != cur {
		var phase corev1.PodPhase
		if pod != nil {
			phase = apply.PodPhase(pod)
		}
		m.log.WithFields(logrus.Fields{FieldUser: user, "from": cur, "to": next, "phase": phase}).
			Info("Lab status changed")
		rec.state.Status = next
	}
}
