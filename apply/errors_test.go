package apply_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/nublado-go/nublado/apply"
	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestObjectError(t *testing.T) {
	svc := apply.ObjectRef{Kind: "Service", Namespace: "userlabs-rachel", Name: "lab"}
	ns := apply.ObjectRef{Kind: "Namespace", Name: "userlabs-rachel"}
	secret := apply.ObjectRef{Kind: "Secret", Namespace: "nublado", Name: "extra-secret"}
	gr := schema.GroupResource{Resource: "services"}
	cases := map[string]struct {
		err  *apply.ObjectError
		want string
	}{
		"api status": {
			err:  apply.NewObjectError("creating object", svc, apierrors.NewBadRequest("Something bad happened")),
			want: "Error creating object (Service userlabs-rachel/lab, status 400): Something bad happened",
		},
		"namespace": {
			err:  apply.NewObjectError("creating namespace", ns, apierrors.NewBadRequest("Something bad happened")),
			want: "Error creating namespace (Namespace userlabs-rachel, status 400): Something bad happened",
		},
		"reading": {
			err:  apply.NewObjectError("reading object", secret, apierrors.NewNotFound(gr, "extra-secret")),
			want: `Error reading object (Secret nublado/extra-secret, status 404): services "extra-secret" not found`,
		},
		"no status": {
			err:  apply.NewObjectError("creating object", svc, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")),
			want: "Error creating object (Service userlabs-rachel/lab): dial tcp 127.0.0.1:6443: connect: connection refused",
		},
		"literal": {
			err:  &apply.ObjectError{Op: "creating object", Object: svc, Status: 400, Message: "Something bad happened"},
			want: "Error creating object (Service userlabs-rachel/lab, status 400): Something bad happened",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}

func TestObjectErrorUnwrap(t *testing.T) {
	inner := apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "x", errors.New("changed"))
	var err error = apply.NewObjectError("updating object", apply.ObjectRef{Kind: "Pod", Name: "x", Namespace: "n"}, inner)
	err = fmt.Errorf("spawning: %w", err)
	var oe *apply.ObjectError
	assert.ErrorAs(t, err, &oe)
	assert.Equal(t, 409, oe.Status)
	assert.True(t, apierrors.IsConflict(err), "the API error stays reachable")
	assert.False(t, errors.Is(err, context.Canceled))
}
