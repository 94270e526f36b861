package apply

import (
	"strings"

	"github.com/sirupsen/logrus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Action is what happened to an object.
type Action string

// The actions of a change set; see the package documentation.
const (
	Created    Action = "created"
	Configured Action = "configured"
	Unchanged  Action = "unchanged"
	Recreated  Action = "recreated"
	Deleted    Action = "deleted"
)

// Change is what an operation did to one object.
type Change struct {
	Object ObjectRef
	Action Action
	// Result is the object as the API server returned it after the apply
	// (its resourceVersion is where a watch for what happens next can
	// start). It is nil for Delete and Diff.
	Result *unstructured.Unstructured
}

// ChangeSet lists the objects an operation touched, in the order the
// operation handled them (stage by stage, and within a stage in the order
// of the caller's list).
type ChangeSet struct {
	Changes []Change
}

// Changed reports whether any object was created, configured, recreated or
// deleted.
func (cs ChangeSet) Changed() bool {
	for _, c := range cs.Changes {
		if c.Action != Unchanged {
			return true
		}
	}
	return false
}

// Count returns how many changes have the action.
func (cs ChangeSet) Count(action Action) int {
	n := 0
	for _, c := range cs.Changes {
		if c.Action == action {
			n++
		}
	}
	return n
}

// String returns one line per change, "Kind namespace/name action".
func (cs ChangeSet) String() string {
	var b strings.Builder
	for _, c := range cs.Changes {
		b.WriteString(c.Object.String())
		b.WriteByte(' ')
		b.WriteString(string(c.Action))
		b.WriteByte('\n')
	}
	return b.String()
}

// Log writes one line per object of the change set to log, with the
// object's kind, namespace, name and action: Info "<noun> object <action>"
// for a change, Debug "<noun> object unchanged" for an object left as it
// was.
func (cs ChangeSet) Log(log *logrus.Entry, noun string) {
	for _, c := range cs.Changes {
		entry := log.WithFields(logrus.Fields{
			"kind": c.Object.Kind, "namespace": c.Object.Namespace,
			"name": c.Object.Name, "action": string(c.Action),
		})
		if c.Action == Unchanged {
			entry.Debug(noun + " object unchanged")
		} else {
			entry.Info(noun + " object " + string(c.Action))
		}
	}
}
