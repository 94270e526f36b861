package fileservers

import (
	"errors"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
)

// changed wakes whoever waits for a change of the user's Ingress or pods.
func (m *Manager) changed(user string) {
	if rec := m.lookup(user); rec != nil {
		rec.notify()
	}
}

// onPod is the pod informer's handler: it wakes the user's waiters and,
// for a pod that ended (Succeeded or Failed), deletes the file server: the
// pod watcher of §4.9, which is how the idle timeout works (worblehat exits
// after WORBLEHAT_TIMEOUT idle seconds).
func (m *Manager) onPod(pod *unstructured.Unstructured, deleted bool) {
	user := podUser(pod)
	if user == "" {
		return
	}
	m.changed(user)
	if deleted {
		return
	}
	if phase := apply.PodPhase(pod); phase == corev1.PodSucceeded || phase == corev1.PodFailed {
		m.podEnded(user, ownerJob(pod))
	}
}

// podUser returns the user of a file-server pod: its nublado.lsst.io/user
// label, else the user in its job-name label ({user}-fs); "" for neither.
func podUser(pod *unstructured.Unstructured) string {
	labels := pod.GetLabels()
	if user := labels[LabelUser]; user != "" {
		return user
	}
	if user, ok := strings.CutSuffix(labels[LabelJobName], nameSuffix); ok {
		return user
	}
	return ""
}

// podEnded deletes the user's file server in the background because a pod
// of its Job (job, when known) ended. Users without a record or without a
// running file server are ignored, as are pods of an earlier Job; one
// deletion per Job is queued at a time.
func (m *Manager) podEnded(user string, job types.UID) {
	rec := m.lookup(user)
	if rec == nil || !rec.startEnding(job) {
		return
	}
	life, err := m.track()
	if err != nil {
		rec.stopEnding(job)
		return
	}
	go func() {
		defer m.ops.Done()
		defer rec.stopEnding(job)
		err := m.deleteServer(life, rec, job, "File server exited, cleaning up")
		var nerr *nublado.Error
		switch {
		case err == nil, errors.Is(err, errStale), life.Err() != nil:
		case errors.As(err, &nerr) && nerr.Code == nublado.CodeUnknownUser:
		default:
			m.log.WithField(FieldUser, user).WithError(err).Error("Deleting the exited file server failed")
		}
	}()
}
