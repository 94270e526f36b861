package testcluster

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// AuditLogFile is the name of the audit log in the state directory of a
// control plane started with [Options.Audit].
const AuditLogFile = "audit.log"

// auditPolicy logs every request of a service account at level Metadata
// (who did what to which object, and the answer), once it is answered;
// the components of the control plane authenticate with certificates and
// are not logged.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    userGroups: ["system:serviceaccounts"]
  - level: None
`

// ErrNoAudit is returned by [Cluster.AuditEvents] for a control plane
// started without [Options.Audit].
var ErrNoAudit = errors.New("the control plane was started without an audit log (Options.Audit)")

// AuditEvent is one request of the audit log: what a service account asked
// the API server and what it answered.
type AuditEvent struct {
	// User is the authenticated user, e.g.
	// system:serviceaccount:nublado:nublado-controller.
	User string
	// Verb is the request's verb as authorization sees it: get, list,
	// watch, create, update, patch, delete, deletecollection.
	Verb string
	// Group, Resource and Subresource name the resource ("" group is the
	// core API); all are empty for a non-resource request.
	Group, Resource, Subresource string
	// Namespace is the request's namespace, empty for a cluster-scoped
	// request (including lists and watches across all namespaces).
	Namespace string
	// Name is the object's name, empty for lists, watches and creates.
	Name string
	// URI is the request URI.
	URI string
	// Code is the HTTP status of the answer (0 while a watch is open).
	Code int
	// Stage is the audit stage: ResponseStarted (a watch began) or
	// ResponseComplete.
	Stage string
}

// auditArgs are the kube-apiserver flags of the audit log, written into dir.
func auditArgs(dir string) ([]string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, fmt.Errorf("writing audit policy: %w", err)
	}
	return []string{
		"--audit-policy-file=" + policy,
		"--audit-log-path=" + filepath.Join(dir, AuditLogFile),
		"--audit-log-format=json",
		"--audit-log-mode=blocking",
		"--audit-log-maxbackup=0",
	}, nil
}

// auditLine is the part of an audit.k8s.io/v1 Event that AuditEvent holds.
type auditLine struct {
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// AuditEvents returns the requests of user ("" for every service account)
// logged so far, in log order. It fails with [ErrNoAudit] when the control
// plane was started without [Options.Audit].
func (c *Cluster) AuditEvents(user string) ([]AuditEvent, error) {
	if !c.audit {
		return nil, ErrNoAudit
	}
	f, err := os.Open(filepath.Join(c.dir, AuditLogFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // nothing logged yet
	}
	if err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	defer f.Close()
	var events []AuditEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		var l auditLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("reading audit log: %w", err)
		}
		if user != "" && l.User.Username != user {
			continue
		}
		events = append(events, l.event())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading audit log: %w", err)
	}
	return events, nil
}

func (l auditLine) event() AuditEvent {
	e := AuditEvent{User: l.User.Username, Verb: l.Verb, URI: l.RequestURI, Stage: l.Stage}
	if r := l.ObjectRef; r != nil {
		e.Group, e.Resource, e.Subresource, e.Namespace, e.Name = r.APIGroup, r.Resource, r.Subresource, r.Namespace, r.Name
	}
	if l.ResponseStatus != nil {
		e.Code = l.ResponseStatus.Code
	}
	return e
}
