package apply

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestTransient(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := map[string]struct {
		err  error
		want bool
		wait time.Duration
	}{
		"429 with Retry-After":    {err: apierrors.NewTooManyRequests("slow down", 3), want: true, wait: 3 * time.Second},
		"503":                     {err: apierrors.NewServiceUnavailable("down"), want: true},
		"500":                     {err: apierrors.NewInternalError(errors.New("boom")), want: true},
		"504 timeout":             {err: apierrors.NewTimeoutError("slow", 0), want: true},
		"quota status unknown":    {err: apierrors.NewForbidden(gr, "p", errors.New("status unknown for quota: q, resource: limits.cpu")), want: true},
		"connection refused":      {err: fmt.Errorf("patching: %w", refused), want: true},
		"unexpected EOF":          {err: io.ErrUnexpectedEOF, want: true},
		"400":                     {err: apierrors.NewBadRequest("bad"), want: false},
		"403":                     {err: apierrors.NewForbidden(gr, "p", errors.New("nope")), want: false},
		"404":                     {err: apierrors.NewNotFound(gr, "p"), want: false},
		"409":                     {err: apierrors.NewConflict(gr, "p", errors.New("changed")), want: false},
		"422":                     {err: apierrors.NewInvalid(schema.GroupKind{Kind: "Pod"}, "p", nil), want: false},
		"context canceled":        {err: context.Canceled, want: false},
		"context deadline":        {err: context.DeadlineExceeded, want: false},
		"something else entirely": {err: errors.New("decoding: invalid character"), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			wait, ok := transient(tc.err)
			assert.Equal(t, tc.want, ok, "transient(%v)", tc.err)
			assert.Equal(t, tc.wait, wait, "transient(%v) wait", tc.err)
		})
	}
}

func TestImmutableChange(t *testing.T) {
	invalid := func(errs ...*field.Error) error {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "X"}, "x", field.ErrorList(errs))
	}
	cases := map[string]struct {
		err  error
		want bool
	}{
		"immutable configmap": {
			err:  invalid(field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set")),
			want: true,
		},
		"pod spec": {
			err:  invalid(field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than `spec.containers[*].image`")),
			want: true,
		},
		"job template": {
			err:  invalid(field.Invalid(field.NewPath("spec", "template"), "x", "field is immutable")),
			want: true,
		},
		"immutable and invalid": {
			err: invalid(field.Forbidden(field.NewPath("spec"), "pod updates may not change fields other than ..."),
				field.NotSupported(field.NewPath("spec", "restartPolicy"), "Sometimes", []string{"Always"})),
			want: false,
		},
		"invalid value": {
			err:  invalid(field.NotSupported(field.NewPath("spec", "restartPolicy"), "Sometimes", []string{"Always"})),
			want: false,
		},
		"not 422": {err: apierrors.NewBadRequest("field is immutable"), want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, immutableChange(tc.err), "immutableChange(%v)", tc.err)
		})
	}
}

func TestMissingServiceAccount(t *testing.T) {
	gr := schema.GroupResource{Resource: "pods"}
	err := apierrors.NewForbidden(gr, "lab",
		errors.New(`error looking up service account userlabs-rachel/default: serviceaccount "default" not found`))
	assert.True(t, missingServiceAccount(err))
	assert.False(t, missingServiceAccount(apierrors.NewForbidden(gr, "lab", errors.New("quota exceeded"))))
	assert.False(t, missingServiceAccount(&apierrors.StatusError{ErrStatus: metav1.Status{Code: 500, Message: "error looking up service account"}}))
}
