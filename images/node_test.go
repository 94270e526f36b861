package images

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEligibility(t *testing.T) {
	secs := int64(60)
	noSched := Taint{Key: "a", Value: "b", Effect: EffectNoSchedule}
	noExec := Taint{Key: "a", Value: "b", Effect: EffectNoExecute}
	cases := map[string]struct {
		taints      []Taint
		tolerations []Toleration
		eligible    bool
		comment     string
	}{
		"NoTaints":                {nil, nil, true, ""},
		"PreferNoScheduleIgnored": {[]Taint{{Key: "a", Effect: EffectPreferNoSchedule}}, nil, true, ""},
		"Untolerated":             {[]Taint{noSched}, nil, false, "Node is tainted (NoSchedule, a = b)"},
		"UntoleratedNoValue":      {[]Taint{{Key: "a", Effect: EffectNoExecute}}, nil, false, "Node is tainted (NoExecute, a)"},
		"EqualMatches":            {[]Taint{noSched}, []Toleration{{Key: "a", Value: "b"}}, true, ""},
		"EqualExplicit":           {[]Taint{noSched}, []Toleration{{Key: "a", Operator: OperatorEqual, Value: "b"}}, true, ""},
		"EqualWrongValue":         {[]Taint{noSched}, []Toleration{{Key: "a", Value: "c"}}, false, "Node is tainted (NoSchedule, a = b)"},
		"EqualWrongKey":           {[]Taint{noSched}, []Toleration{{Key: "x", Value: "b"}}, false, "Node is tainted (NoSchedule, a = b)"},
		"ExistsKey":               {[]Taint{noSched}, []Toleration{{Key: "a", Operator: OperatorExists}}, true, ""},
		"ExistsOtherKey":          {[]Taint{noSched}, []Toleration{{Key: "x", Operator: OperatorExists}}, false, "Node is tainted (NoSchedule, a = b)"},
		"ExistsAll":               {[]Taint{noSched, noExec}, []Toleration{{Operator: OperatorExists}}, true, ""},
		"EffectMatches":           {[]Taint{noSched}, []Toleration{{Key: "a", Value: "b", Effect: EffectNoSchedule}}, true, ""},
		"EffectMismatch":          {[]Taint{noSched}, []Toleration{{Key: "a", Value: "b", Effect: EffectNoExecute}}, false, "Node is tainted (NoSchedule, a = b)"},
		"SecondsVsNoExecute":      {[]Taint{noExec}, []Toleration{{Key: "a", Value: "b", TolerationSeconds: &secs}}, false, "Node is tainted (NoExecute, a = b)"},
		"SecondsVsNoSchedule":     {[]Taint{noSched}, []Toleration{{Key: "a", Value: "b", TolerationSeconds: &secs}}, true, ""},
		"ExistsSecondsNoExecute":  {[]Taint{noExec}, []Toleration{{Operator: OperatorExists, TolerationSeconds: &secs}}, false, "Node is tainted (NoExecute, a = b)"},
		"AllMustBeTolerated": {[]Taint{noSched, {Key: "c", Value: "d", Effect: EffectNoSchedule}},
			[]Toleration{{Key: "a", Value: "b"}}, false, "Node is tainted (NoSchedule, c = d)"},
		"FirstUntoleratedNamed": {[]Taint{{Key: "x", Effect: EffectNoSchedule}, {Key: "y", Effect: EffectNoSchedule}},
			nil, false, "Node is tainted (NoSchedule, x)"},
		"BothTolerated": {[]Taint{noSched, {Key: "c", Value: "d", Effect: EffectNoSchedule}},
			[]Toleration{{Key: "a", Value: "b"}, {Key: "c", Operator: OperatorExists}}, true, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			eligible, comment := Eligibility(tc.taints, tc.tolerations)
			assert.Equal(t, tc.eligible, eligible, "Eligibility eligible")
			assert.Equal(t, tc.comment, comment, "Eligibility comment")
		})
	}
}

func TestCachedImages(t *testing.T) {
	got := CachedImages([]ContainerImage{
		{Names: []string{"reg/repo:tag", "other.io/x/y@sha256:abcd", "reg/repo@sha256:1234"}, SizeBytes: 10},
		{Names: nil, SizeBytes: 5},
		{Names: []string{"nodigest/x:y", "plain"}, SizeBytes: 7},
	})
	assert.Equal(t, []CachedImage{
		{References: []string{"reg/repo:tag", "other.io/x/y@sha256:abcd", "reg/repo@sha256:1234"}, Digest: "sha256:abcd", Size: 10},
		{References: []string{"nodigest/x:y", "plain"}, Digest: "", Size: 7},
	}, got)
}

func TestParseReference(t *testing.T) {
	cases := map[string]struct {
		ref  string
		want Reference
		bad  bool
	}{
		"Full":       {"lighthouse.ceres/library/sketchbook:latest_daily@sha256:1234", Reference{"lighthouse.ceres", "library/sketchbook", "latest_daily", "sha256:1234"}, false},
		"TagOnly":    {"lighthouse.ceres/library/sketchbook:w_2077_43", Reference{"lighthouse.ceres", "library/sketchbook", "w_2077_43", ""}, false},
		"DigestOnly": {"lighthouse.ceres/library/sketchbook@sha256:1234", Reference{"lighthouse.ceres", "library/sketchbook", "", "sha256:1234"}, false},
		"Bare":       {"lighthouse.ceres/library/sketchbook", Reference{"lighthouse.ceres", "library/sketchbook", "", ""}, false},
		"Port":       {"localhost:5000/sketchbook:x", Reference{"localhost:5000", "sketchbook", "x", ""}, false},
		"NoSlash":    {"sketchbook:latest", Reference{}, true},
		"Empty":      {"", Reference{}, true},
		"EmptyRepo":  {"reg/:tag", Reference{}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseReference(tc.ref)
			if tc.bad {
				var ie *InvalidReferenceError
				assert.ErrorAs(t, err, &ie, "ParseReference(%q)", tc.ref)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.ref, got.String())
		})
	}
}
