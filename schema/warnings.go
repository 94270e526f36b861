package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// warner accumulates warnings with positions.
type warner struct {
	doc   *document
	warns []Warning
}

// add records a warning for the field at path.
func (w *warner) add(path []string, format string, args ...any) {
	w.warns = append(w.warns, Warning{
		Pos:     w.doc.pos(path),
		Path:    joinPath(path),
		Message: fmt.Sprintf(format, args...),
	})
}

// warnings finds what Nublado accepts but will not work: no lab sizes (D5)
// and values a Kubernetes API server rejects in the objects built from them
// (D19). Each Kubernetes warning names the rule.
func warnings(cfg *Config, doc *document) []Warning {
	w := &warner{doc: doc}
	lab := cfg.Lab
	if len(lab.Sizes) == 0 {
		w.add([]string{"lab", "sizes"}, "no lab sizes are defined: every lab creation will fail with invalid_lab_size")
	}
	w.dnsPrefix([]string{"lab", "namespacePrefix"}, lab.NamespacePrefix)
	w.tolerations([]string{"lab", "tolerations"}, lab.Tolerations)
	w.labels([]string{"lab", "nodeSelector"}, lab.NodeSelector)
	w.annotations([]string{"lab", "extraAnnotations"}, lab.ExtraAnnotations)
	w.annotations([]string{"lab", "namespaceAnnotations"}, lab.NamespaceAnnotations)
	w.envKeys([]string{"lab", "env"}, lab.Env)
	w.volumes([]string{"lab", "volumes"}, lab.Volumes)
	w.secrets([]string{"lab", "secrets"}, lab.Secrets)
	for i, c := range lab.InitContainers {
		p := []string{"lab", "initContainers", strconv.Itoa(i), "name"}
		w.dnsLabel(p, "container name", c.Name)
	}
	w.nodeAffinityWeights([]string{"lab", "affinity"}, lab.Affinity)
	if fs := cfg.Fileserver; fs.Enabled {
		w.tolerations([]string{"fileserver", "tolerations"}, fs.Tolerations)
		w.labels([]string{"fileserver", "nodeSelector"}, fs.NodeSelector)
		w.annotations([]string{"fileserver", "extraAnnotations"}, fs.ExtraAnnotations)
		w.dnsLabel([]string{"fileserver", "namespace"}, "namespace", fs.Namespace)
		w.nodeAffinityWeights([]string{"fileserver", "affinity"}, fs.Affinity)
	}
	fa := cfg.FSAdmin
	w.tolerations([]string{"fsadmin", "tolerations"}, fa.Tolerations)
	w.labels([]string{"fsadmin", "nodeSelector"}, fa.NodeSelector)
	w.annotations([]string{"fsadmin", "extraAnnotations"}, fa.ExtraAnnotations)
	w.volumes([]string{"fsadmin", "extraVolumes"}, fa.ExtraVolumes)
	w.dnsSubdomain([]string{"fsadmin", "podName"}, "pod name", fa.PodName)
	w.nodeAffinityWeights([]string{"fsadmin", "affinity"}, fa.Affinity)
	sort.SliceStable(w.warns, func(i, j int) bool {
		a, b := w.warns[i].Pos, w.warns[j].Pos
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	return w.warns
}

// tolerations checks the pod-spec rules of Kubernetes' ValidateTolerations.
func (w *warner) tolerations(base []string, ts []Toleration) {
	for i, t := range ts {
		p := append(base, strconv.Itoa(i))
		if t.TolerationSeconds != nil && t.Effect != "NoExecute" {
			w.add(append(p, "tolerationSeconds"),
				"Kubernetes rejects this pod: effect must be 'NoExecute' when tolerationSeconds is set (effect is %q)", t.Effect)
		}
		if (t.Key == nil || *t.Key == "") && t.Operator != "Exists" {
			w.add(append(p, "key"),
				"Kubernetes rejects this pod: operator must be Exists when key is empty")
		}
		if t.Key != nil && *t.Key != "" {
			for _, msg := range validation.IsQualifiedName(*t.Key) {
				w.add(append(p, "key"), "Kubernetes rejects this pod: toleration key %q: %s", *t.Key, msg)
			}
		}
		if t.Operator == "Equal" && t.Value != nil {
			for _, msg := range validation.IsValidLabelValue(*t.Value) {
				w.add(append(p, "value"), "Kubernetes rejects this pod: toleration value %q: %s", *t.Value, msg)
			}
		}
	}
}

// labels checks a node selector: keys are qualified names, values label
// values.
func (w *warner) labels(base []string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		for _, msg := range validation.IsQualifiedName(k) {
			w.add(append(base, k), "Kubernetes rejects this node selector key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(m[k]) {
			w.add(append(base, k), "Kubernetes rejects this node selector value %q: %s", m[k], msg)
		}
	}
}

// annotations checks that annotation keys are qualified names.
func (w *warner) annotations(base []string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(k)) {
			w.add(append(base, k), "Kubernetes rejects this annotation key %q: %s", k, msg)
		}
	}
}

// envKeys checks that lab environment variables can be ConfigMap keys (the
// lab's environment is a ConfigMap).
func (w *warner) envKeys(base []string, m map[string]string) {
	for _, k := range sortedKeys(m) {
		for _, msg := range validation.IsConfigMapKey(k) {
			w.add(append(base, k), "Kubernetes rejects the lab's env ConfigMap key %q: %s", k, msg)
		}
	}
}

// volumes checks volume names (at most 63 characters) and claim sizes.
func (w *warner) volumes(base []string, vs []Volume) {
	for i, v := range vs {
		p := append(base, strconv.Itoa(i))
		w.dnsLabel(append(p, "name"), "volume name", v.Name)
		if v.Source.Resources == nil {
			continue
		}
		for _, k := range sortedKeys(v.Source.Resources.Requests) {
			q := v.Source.Resources.Requests[k]
			if _, err := resource.ParseQuantity(q); err != nil {
				w.add(append(p, "source", "resources", "requests", k),
					"Kubernetes rejects this claim: %q is not a resource quantity", q)
			}
		}
	}
}

// secrets checks that secret keys can be Secret keys.
func (w *warner) secrets(base []string, ss []LabSecret) {
	for i, s := range ss {
		for _, msg := range validation.IsConfigMapKey(s.SecretKey) {
			w.add(append(base, strconv.Itoa(i), "secretKey"), "Kubernetes rejects the lab's Secret key %q: %s", s.SecretKey, msg)
		}
	}
}

// nodeAffinityWeights checks that preferred node-affinity weights are in
// 1..100 (Nublado only checks pod-affinity weights).
func (w *warner) nodeAffinityWeights(base []string, a *corev1.Affinity) {
	if a == nil || a.NodeAffinity == nil {
		return
	}
	for i, t := range a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if t.Weight < 1 || t.Weight > 100 {
			w.add(append(base, "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution", strconv.Itoa(i), "weight"),
				"Kubernetes rejects this pod: weight must be in the range 1-100 (is %d)", t.Weight)
		}
	}
}

// dnsPrefix checks that prefix-{username} can be a namespace name.
func (w *warner) dnsPrefix(path []string, prefix string) {
	for _, msg := range validation.IsDNS1123Label(prefix + "-x") {
		w.add(path, "Kubernetes rejects lab namespace names %s-{username}: %s", prefix, msg)
	}
}

// dnsLabel checks a name that Kubernetes requires to be a DNS-1123 label.
func (w *warner) dnsLabel(path []string, what, name string) {
	for _, msg := range validation.IsDNS1123Label(name) {
		w.add(path, "Kubernetes rejects %s %q: %s", what, name, msg)
	}
}

// dnsSubdomain checks a name that Kubernetes requires to be a DNS-1123
// subdomain.
func (w *warner) dnsSubdomain(path []string, what, name string) {
	for _, msg := range validation.IsDNS1123Subdomain(name) {
		w.add(path, "Kubernetes rejects %s %q: %s", what, name, msg)
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
