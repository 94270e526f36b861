package apply

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var events = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// Event is a Kubernetes Event about an object, or the failure that ended
// [Applier.WatchEvents].
type Event struct {
	Type    string // "Normal" or "Warning"
	Reason  string // for example "Scheduled", "Pulling"
	Message string // for example "Successfully assigned userlabs-rachel/rachel-nb to node1"
	// Err is set on the last value sent when the watch failed for good
	// (for example 403 Forbidden); transient failures are retried and not
	// reported.
	Err error
}

// WatchEvents delivers the Kubernetes Events (core/v1) in namespace whose
// involved object is named name (field selector involvedObject.name), the
// existing ones first and then each new or updated one, until ctx ends;
// then it closes the channel. The consumer must keep reading until the
// channel is closed. An event is delivered once per version, also when the
// watch had to start over.
func (a *Applier) WatchEvents(ctx context.Context, namespace, name string) <-chan Event {
	ch := make(chan Event)
	q := query{
		ri:            a.dyn.Resource(events).Namespace(namespace),
		fieldSelector: fields.OneTermEqualSelector("involvedObject.name", name).String(),
	}
	type version struct{ uid, rv string }
	seen := map[version]bool{}
	send := func(ev Event) bool {
		select {
		case ch <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	go func() {
		defer close(ch)
		err := a.watch(ctx, q, observer{
			object: func(obj *unstructured.Unstructured, deleted bool) (bool, error) {
				v := version{string(obj.GetUID()), obj.GetResourceVersion()}
				if deleted || seen[v] {
					return false, nil
				}
				seen[v] = true
				return !send(toEvent(obj)), nil
			},
		})
		if err != nil && ctx.Err() == nil {
			send(Event{Err: NewObjectError("watching events", ObjectRef{Kind: "Event", Namespace: namespace, Name: name}, err)})
		}
	}()
	return ch
}

func toEvent(obj *unstructured.Unstructured) Event {
	str := func(key string) string {
		s, _, _ := unstructured.NestedString(obj.Object, key)
		return s
	}
	return Event{Type: str("type"), Reason: str("reason"), Message: str("message")}
}
