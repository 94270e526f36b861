package labs

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/schema"
)

func unitManager(t *testing.T) *Manager {
	t.Helper()
	cfg, err := schema.Load(filepath.Join("testdata", "config.yaml"),
		schema.WithoutEnv())
	require.NoError(t, err)
	log := logrus.New()
	log.SetLevel(logrus.PanicLevel)
	return &Manager{cfg: cfg, records: map[string]*record{}, log: logrus.NewEntry(log)}
}

// labObjectsOf builds the objects reconcile reads, as the API server
// returns them.
func labObjectsOf(env map[string]any, hard map[string]any, annotations map[string]any) labObjects {
	objs := labObjects{
		env: &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": "rachel-nb-env", "namespace": "userlabs-rachel"},
			"data":     env,
		}},
		pod: &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": "rachel-nb", "namespace": "userlabs-rachel", "annotations": annotations},
			"spec": map[string]any{"containers": []any{
				map[string]any{"name": "notebook", "securityContext": map[string]any{"runAsUser": int64(1101), "runAsGroup": int64(1101)}},
			}},
			"status": map[string]any{"phase": "Running"},
		}},
	}
	if hard != nil {
		objs.quota = &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"hard": hard}}}
	}
	return objs
}

func TestObserve(t *testing.T) {
	m := unitManager(t)
	env := func(cpuLimit, memLimit string) map[string]any {
		return map[string]any{
			"CPU_LIMIT": cpuLimit, "MEM_LIMIT": memLimit, "CPU_GUARANTEE": "0.25", "MEM_GUARANTEE": "805306368",
			"JUPYTER_IMAGE_SPEC":        "lighthouse.ceres/library/sketchbook:w_2077_43@sha256:1234",
			"JUPYTERHUB_SERVICE_PREFIX": "/nb/user/rachel/", "DEBUG": "TRUE",
		}
	}
	groups := map[string]any{
		annotationGroups: `[{"name": "rachel", "id": 1101}, {"name": "lunatics", "id": 2028}]`,
		annotationName:   "Rachel (?)",
	}
	url := "http://lab.userlabs-rachel:8888/nb/user/rachel/"
	for _, tc := range []struct {
		name string
		objs labObjects
		want *nublado.LabState
	}{
		{
			// Kubernetes may return quantities in canonical forms (D10).
			name: "CanonicalQuantities",
			objs: labObjectsOf(env("1.0", "3221225472"), map[string]any{"limits.cpu": "9", "limits.memory": "28991029248"}, groups),
			want: &nublado.LabState{
				User: nublado.UserInfo{Username: "rachel", Name: ptr("Rachel (?)"), UID: 1101, GID: 1101,
					Groups: []nublado.Group{{Name: "rachel", ID: 1101}, {Name: "lunatics", ID: 2028}}},
				Options: nublado.LabOptions{Size: "small", EnableDebug: true,
					Image: "lighthouse.ceres/library/sketchbook:w_2077_43@sha256:1234"},
				Status: nublado.LabRunning, InternalURL: &url,
				Resources: nublado.LabResources{
					Limits:   nublado.ResourceAmounts{CPU: 1, Memory: 3221225472},
					Requests: nublado.ResourceAmounts{CPU: 0.25, Memory: 805306368},
				},
				Quota: &nublado.ResourceAmounts{CPU: 9, Memory: 28991029248},
			},
		},
		{
			name: "MilliCPUAndDecimalSuffix",
			objs: labObjectsOf(env("500m", "134217728k"), map[string]any{"limits.cpu": "1500m", "limits.memory": "27Gi"}, nil),
			want: &nublado.LabState{
				User:    nublado.UserInfo{Username: "rachel", UID: 1101, GID: 1101, Groups: []nublado.Group{}},
				Options: nublado.LabOptions{Size: "custom", EnableDebug: true, Image: "lighthouse.ceres/library/sketchbook:w_2077_43@sha256:1234"},
				Status:  nublado.LabRunning, InternalURL: &url,
				Resources: nublado.LabResources{
					Limits:   nublado.ResourceAmounts{CPU: 0.5, Memory: 134217728000},
					Requests: nublado.ResourceAmounts{CPU: 0.25, Memory: 805306368},
				},
				Quota: &nublado.ResourceAmounts{CPU: 1.5, Memory: 27 << 30},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := m.observe("rachel", tc.objs)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got, "observe: -want +got")
		})
	}
}

func TestObserveIncomplete(t *testing.T) {
	m := unitManager(t)
	good := func() map[string]any {
		return map[string]any{
			"CPU_LIMIT": "1.0", "MEM_LIMIT": "3221225472", "CPU_GUARANTEE": "0.25", "MEM_GUARANTEE": "805306368",
			"JUPYTER_IMAGE_SPEC": "x", "JUPYTERHUB_SERVICE_PREFIX": "/",
		}
	}
	for name, edit := range map[string]func(*labObjects){
		"NoEnv":       func(o *labObjects) { o.env = nil },
		"NoPod":       func(o *labObjects) { o.pod = nil },
		"NoCPULimit":  func(o *labObjects) { delete(o.env.Object["data"].(map[string]any), "CPU_LIMIT") },
		"BadMemory":   func(o *labObjects) { o.env.Object["data"].(map[string]any)["MEM_LIMIT"] = "lots" },
		"NoImage":     func(o *labObjects) { delete(o.env.Object["data"].(map[string]any), "JUPYTER_IMAGE_SPEC") },
		"NoContainer": func(o *labObjects) { o.pod.Object["spec"] = map[string]any{"containers": []any{}} },
		"BadGroups":   func(o *labObjects) { o.pod.SetAnnotations(map[string]string{annotationGroups: "[{"}) },
		"BadQuota": func(o *labObjects) {
			o.quota.Object["spec"] = map[string]any{"hard": map[string]any{"limits.cpu": "x"}}
		},
		"NoRunAsUser": func(o *labObjects) {
			o.pod.Object["spec"] = map[string]any{"containers": []any{map[string]any{"name": "notebook"}}}
		},
		"NoServicePrefix": func(o *labObjects) { delete(o.env.Object["data"].(map[string]any), "JUPYTERHUB_SERVICE_PREFIX") },
	} {
		t.Run(name, func(t *testing.T) {
			objs := labObjectsOf(good(), map[string]any{"limits.cpu": "9", "limits.memory": "1"}, nil)
			edit(&objs)
			_, err := m.observe("rachel", objs)
			var ie *IncompleteLabError
			require.ErrorAs(t, err, &ie, "observe")
			assert.Equal(t, "userlabs-rachel", ie.Namespace)
		})
	}
}

func TestTimeoutMessage(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute:        "Lab spawn timed out after 600.0",
		time.Second:             "Lab spawn timed out after 1.0",
		1500 * time.Millisecond: "Lab spawn timed out after 1.5",
	} {
		assert.Equal(t, want, (&timeoutError{what: "Lab spawn", timeout: d}).Error())
	}
}

func TestEventProgress(t *testing.T) {
	var got []int
	p := eventProgressStart
	for range 6 {
		got = append(got, p)
		p = int(float64(p) + float64(eventProgressEnd-p)/3)
	}
	assert.Equal(t, []int{35, 48, 57, 63, 67, 69}, got)
}

func TestUserMessage(t *testing.T) {
	oe := &apply.ObjectError{Op: "creating object", Object: apply.ObjectRef{Kind: "Service", Namespace: "userlabs-rachel", Name: "lab"},
		Status: 400, Message: "Something bad happened"}
	want := "Error creating object (Service userlabs-rachel/lab, status 400): Something bad happened"
	assert.Equal(t, want, userMessage(oe))
	assert.Equal(t, want, userMessage(multierror.Append(nil, oe, errors.New("other"))), "first of several")
	assert.Equal(t, "Secret nublado/x does not exist",
		userMessage(&nublado.Error{Code: nublado.CodeMissingSecret, Message: "Secret nublado/x does not exist"}))
	assert.Equal(t, "Lab pod ended in phase Failed during spawn", userMessage(&PodEndedError{Phase: corev1.PodFailed}))
}

func TestPhaseStatus(t *testing.T) {
	for phase, want := range map[corev1.PodPhase]nublado.LabStatus{
		corev1.PodPending: nublado.LabPending, corev1.PodRunning: nublado.LabRunning,
		corev1.PodSucceeded: nublado.LabTerminated, corev1.PodFailed: nublado.LabTerminated,
		corev1.PodUnknown: nublado.LabFailed,
	} {
		assert.Equal(t, want, phaseStatus(phase), "phaseStatus(%s)", phase)
	}
}

// TestOnPod checks how pod changes move a lab's status when no operation
// is in progress, and that an operation keeps the status it owns.
func TestOnPod(t *testing.T) {
	m := unitManager(t)
	pod := func(phase string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{"phase": phase}}}
	}
	for _, tc := range []struct {
		name string
		from nublado.LabStatus
		pod  *unstructured.Unstructured
		op   bool
		want nublado.LabStatus
	}{
		{"RunningToTerminated", nublado.LabRunning, pod("Succeeded"), false, nublado.LabTerminated},
		{"RunningPodFailed", nublado.LabRunning, pod("Failed"), false, nublado.LabTerminated},
		{"RunningPodUnknown", nublado.LabRunning, pod("Unknown"), false, nublado.LabFailed},
		{"PendingToRunning", nublado.LabPending, pod("Running"), false, nublado.LabRunning},
		{"RunningPodGone", nublado.LabRunning, nil, false, nublado.LabFailed},
		{"TerminatedPodGone", nublado.LabTerminated, nil, false, nublado.LabTerminated},
		{"FailedStaysFailed", nublado.LabFailed, pod("Running"), false, nublado.LabFailed},
		{"OperationOwnsStatus", nublado.LabPending, pod("Failed"), true, nublado.LabPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := m.recordFor("rachel")
			rec.state = &nublado.LabState{Status: tc.from}
			rec.op = nil
			if tc.op {
				rec.op = &operation{kind: opSpawn}
			}
			signal := rec.podSignal()
			m.onPod("userlabs-rachel", "rachel-nb", tc.pod)
			assert.Equal(t, tc.want, rec.state.Status)
			select {
			case <-signal:
			default:
				t.Error("waiters of the pod were not woken")
			}
		})
	}
	m.onPod("userlabs-rachel", "other-pod", nil)
	m.onPod("other-rachel", "rachel-nb", nil)
}

func TestSlim(t *testing.T) {
	pod := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "rachel-nb", "managedFields": []any{map[string]any{"manager": "nublado"}},
			"annotations": map[string]any{annotationName: "Rachel"}},
		"spec": map[string]any{
			"volumes":    []any{map[string]any{"name": "home"}},
			"containers": []any{map[string]any{"name": "notebook", "image": "x", "env": []any{}, "securityContext": map[string]any{"runAsUser": int64(1)}}},
		},
		"status": map[string]any{"phase": "Running", "conditions": []any{}},
	}}
	out, err := slimPod(pod)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{
		"metadata": map[string]any{"name": "rachel-nb", "annotations": map[string]any{annotationName: "Rachel"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "notebook", "securityContext": map[string]any{"runAsUser": int64(1)}}}},
		"status":   map[string]any{"phase": "Running"},
	}, out.(*unstructured.Unstructured).Object)

	files := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "rachel-nb-files"}, "data": map[string]any{"a": "b"}}}
	out, err = slimConfigMap(files)
	require.NoError(t, err)
	assert.NotContains(t, out.(*unstructured.Unstructured).Object, "data", "data of other ConfigMaps is dropped")
	env := &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "rachel-nb-env"}, "data": map[string]any{"a": "b"}}}
	out, err = slimConfigMap(env)
	require.NoError(t, err)
	assert.Contains(t, out.(*unstructured.Unstructured).Object, "data", "the env ConfigMap keeps its data")
}

func ptr[T any](v T) *T { return &v }
