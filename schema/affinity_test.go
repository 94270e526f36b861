package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAffinityOmitsEmptyLists: an affinity keeps no empty list, neither
// the schema's default namespaces nor an explicit empty one, so that the
// objects leave them out as the original does (§2.8).
func TestAffinityOmitsEmptyLists(t *testing.T) {
	cfg := buildCfg(t, `
fileserver:
  enabled: true
  namespace: fileservers
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        - {topologyKey: zone, labelSelector: {matchLabels: {app: x}}}
        - {topologyKey: zone, namespaces: []}
fsadmin:
  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
        - weight: 10
          podAffinityTerm: {topologyKey: zone, namespaces: [a], labelSelector: {matchExpressions: [{key: k, operator: Exists}]}}
`)
	want := []corev1.PodAffinityTerm{
		{TopologyKey: "zone", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}},
		{TopologyKey: "zone"},
	}
	require.NotNil(t, cfg.Fileserver.Affinity)
	assert.Equal(t, want, cfg.Fileserver.Affinity.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	term := cfg.FSAdmin.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	assert.Equal(t, []string{"a"}, term.Namespaces, "a non-empty list stays")
	assert.Equal(t, []metav1.LabelSelectorRequirement{{Key: "k", Operator: metav1.LabelSelectorOpExists}},
		term.LabelSelector.MatchExpressions)
}
