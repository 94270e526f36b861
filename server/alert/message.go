package alert

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	"github.com/nublado-go/nublado/internal/slack"
)

// TimeFormat is the layout of the "Failed at" field (UTC).
const TimeFormat = "2006-01-02 15:04:05.000"

// kubernetesErrorType is the exception type of Kubernetes errors.
const kubernetesErrorType = "KubernetesError"

// PanicError is a recovered panic, reported like an error.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
}

// Error returns "panic: {value}".
func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// serverCodes are the codes of *nublado.Error that are server failures
// (answered 500); the others are client errors and never reported.
var serverCodes = map[nublado.ErrorCode]bool{
	nublado.CodeDeleteFailed:           true,
	nublado.CodeFileServerCreateFailed: true,
	nublado.CodeFileServerDeleteFailed: true,
	nublado.CodeMissingSecret:          true,
}

// Reportable tells whether err is reported: it is not nil and not a client
// error (a *nublado.Error with a 4xx code, or one of the nublado sentinels
// that handlers answer with a 4xx).
func Reportable(err error) bool {
	var ne *nublado.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &ne):
		return serverCodes[ne.Code]
	case errors.Is(err, nublado.ErrLabNotFound), errors.Is(err, nublado.ErrLabExists),
		errors.Is(err, nublado.ErrOperationInProgress):
		return false
	}
	return true
}

// Message returns the message reporting err, which happened at at in the
// application app, for user ("" when not known). It does not check
// [Reportable].
func Message(app, user string, err error, at time.Time) slack.Message {
	fields := []*slack.Text{
		slack.Field("Exception type", exceptionType(err)),
		slack.Field("Failed at", at.UTC().Format(TimeFormat)),
	}
	if user != "" {
		fields = append(fields, slack.Field("User", user))
	}
	var oe *apply.ObjectError
	if !errors.As(err, &oe) {
		return slack.Message{Blocks: []slack.Block{
			slack.Section("Error in "+app+": "+err.Error(), true),
			slack.Fields(fields...), slack.Divider(),
		}}
	}
	if oe.Status != 0 {
		fields = append(fields, slack.Field("Status", strconv.Itoa(oe.Status)))
	}
	blocks := []slack.Block{
		slack.Section("Error in "+app+": "+summary(oe), true),
		slack.Fields(fields...),
		slack.Section("*Object*\n"+oe.Object.String(), true),
	}
	if oe.Message != "" {
		blocks = append(blocks, codeSection("Error", oe.Message))
	}
	return slack.Message{Blocks: append(blocks, slack.Divider())}
}

// summary is an object error's text without the API server's message:
// "Error creating object (Service userlabs-rachel/lab, status 400)".
func summary(oe *apply.ObjectError) string {
	s := "Error " + oe.Op + " (" + oe.Object.String()
	if oe.Status != 0 {
		s += ", status " + strconv.Itoa(oe.Status)
	}
	return s + ")"
}

// codeSection returns "*heading*\n```\n{code}\n```", the code cut so that
// the section stays within Slack's limit.
func codeSection(heading, code string) slack.Block {
	head := "*" + heading + "*\n```\n"
	const tail = "\n```"
	room := slack.MaxSectionText - len([]rune(head)) - len(tail)
	return slack.Section(head+slack.Truncate(code, room)+tail, true)
}

// exceptionType names err's type: KubernetesError for an object error,
// else the type of the first error in the chain that is not a mere
// wrapper.
func exceptionType(err error) string {
	var oe *apply.ObjectError
	if errors.As(err, &oe) {
		return kubernetesErrorType
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		name := strings.TrimPrefix(reflect.TypeOf(e).String(), "*")
		switch name {
		case "fmt.wrapError", "fmt.wrapErrors", "errors.joinError", "errors.errorString":
			continue
		}
		return name
	}
	return "error"
}
