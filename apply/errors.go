package apply

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// ObjectError is a failed operation on one object. Status is the HTTP
// status of the API server's answer (0 when there was none, for example
// when the connection failed or the context ended) and Message is the API
// server's message, or the text of Err when there is no API status.
type ObjectError struct {
	// Op is the operation as Nublado names it in messages: "creating
	// namespace", "creating object", "updating object", "reading object",
	// "deleting object", "waiting for object", ...
	Op string
	// Object is the object the operation was about.
	Object ObjectRef
	// Status is the HTTP status code, or 0.
	Status int
	// Message is the API server's message (or the error text).
	Message string
	// Err is the underlying error, usually a *k8s.io/apimachinery
	// StatusError; errors.Is(err, context.DeadlineExceeded) works through it
	// when the context ended while retrying.
	Err error
}

// Error returns "Error {Op} ({Object}, status {Status}): {Message}", the
// text Nublado reports, for example
// "Error creating object (Service userlabs-rachel/lab, status 400): Something bad happened".
// The status part is left out when Status is 0 and the message part when
// Message is empty.
func (e *ObjectError) Error() string {
	var b strings.Builder
	b.WriteString("Error ")
	b.WriteString(e.Op)
	b.WriteString(" (")
	b.WriteString(e.Object.String())
	if e.Status != 0 {
		fmt.Fprintf(&b, ", status %d", e.Status)
	}
	b.WriteString(")")
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ObjectError) Unwrap() error { return e.Err }

// NewObjectError describes err, the failure of op on obj, as an
// *ObjectError, taking the status code and message from the API status
// when err carries one. Callers that talk to the API themselves (for
// example to read a Secret) use it to report failures the same way:
//
//	apply.NewObjectError("reading object", ref, err)
func NewObjectError(op string, obj ObjectRef, err error) *ObjectError {
	oe := &ObjectError{Op: op, Object: obj, Err: err, Message: err.Error()}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		s := status.Status()
		oe.Status = int(s.Code)
		if s.Message != "" {
			oe.Message = s.Message
		}
	}
	return oe
}

// stopped describes retries cut short by the end of ctx: the error is the
// last failure, marked so that errors.Is finds the context's error.
func stopped(ctx context.Context, last error) error {
	if last == nil {
		return ctx.Err()
	}
	return &retryStoppedError{ctx: context.Cause(ctx), last: last}
}

// retryStoppedError keeps the last failure's API status visible (for
// NewObjectError) while unwrapping to both it and the context's error.
type retryStoppedError struct {
	ctx, last error
}

func (e *retryStoppedError) Error() string {
	return fmt.Sprintf("%v (retrying until: %v)", e.last, e.ctx)
}

func (e *retryStoppedError) Unwrap() []error { return []error{e.last, e.ctx} }
