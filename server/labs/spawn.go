package labs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sirupsen/logrus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/apply"
	nschema "github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/schema/units"
)

var (
	secretsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	podsGVR       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	configMapsGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	quotasGVR     = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
)

// servicePrefixVar is the spawner's environment variable that ends the
// lab's internal URL.
const servicePrefixVar = "JUPYTERHUB_SERVICE_PREFIX"

// timeoutError is the failure of an operation that ran out of time; its
// text is the original's, with the configured seconds formatted as
// Python formats a float ("Lab spawn timed out after 600.0").
type timeoutError struct {
	what    string
	timeout time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%s timed out after %s", e.what, units.FormatPythonFloat(e.timeout.Seconds()))
}

// spawn is one spawn operation (§4.5).
type spawn struct {
	m           *Manager
	rec         *record
	req         nublado.CreateRequest
	image       nschema.LabImage
	deleteFirst bool
}

func (s *spawn) spec() opSpec {
	timeout := s.m.cfg.Lab.SpawnTimeout
	return opSpec{
		kind: opSpawn, timeout: timeout,
		timeoutErr: &timeoutError{what: "Lab spawn", timeout: timeout},
		run:        s.run,
		finish:     s.m.finishSpawn(s.rec, time.Now()),
	}
}

// run is the spawn flow up to the pod's start.
func (s *spawn) run(ctx context.Context) error {
	m, rec, user := s.m, s.rec, s.rec.user
	m.info(rec, "Starting lab creation for "+user, 1)
	if s.deleteFirst {
		m.info(rec, "Deleting existing failed lab for "+user, 2)
		if err := m.deleteObjects(ctx, rec, 5, 20); err != nil {
			return err
		}
		rec.update(func(st *nublado.LabState) { st.Status = nublado.LabTerminated })
	}
	if m.slots != nil {
		select {
		case m.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-m.slots }()
	}
	objs, err := s.build(ctx)
	if err != nil {
		return err
	}
	rec.update(func(st *nublado.LabState) { st.Status = nublado.LabPending })
	absent, err := m.prepareNamespace(ctx, user)
	if err != nil {
		return err
	}
	var opts []apply.ApplyOption
	if absent {
		// Saves the apply reading the namespace again.
		opts = append(opts, apply.Absent(apply.ObjectRef{Kind: "Namespace", Name: m.namespace(user)}))
	}
	cs, err := m.cluster.Applier.Apply(ctx, objs, opts...)
	cs.Log(m.log.WithField(FieldUser, user), "Lab")
	if err != nil {
		return err
	}
	m.info(rec, "Created Kubernetes objects for user lab", 30)
	url := internalURL(m.namespace(user), s.req.Env[servicePrefixVar])
	rec.update(func(st *nublado.LabState) { st.InternalURL = &url })
	return m.waitStarted(ctx, rec, podUID(cs))
}

// internalURL is the lab's URL inside the cluster (§3.5).
func internalURL(namespace, servicePrefix string) string {
	return "http://lab." + namespace + ":8888" + servicePrefix
}

// podUID returns the UID of the pod an apply created.
func podUID(cs apply.ChangeSet) types.UID {
	for _, c := range cs.Changes {
		if c.Object.Group == "" && c.Object.Kind == "Pod" && c.Result != nil {
			return c.Result.GetUID()
		}
	}
	return ""
}

// build reads what the lab needs from Kubernetes and Repertoire, builds
// the template input and renders the objects.
func (s *spawn) build(ctx context.Context) ([]*unstructured.Unstructured, error) {
	m := s.m
	secrets, err := m.readSecrets(ctx)
	if err != nil {
		return nil, err
	}
	pull, err := m.readPullSecret(ctx)
	if err != nil {
		return nil, err
	}
	var discovery []byte
	if m.o.discovery != nil {
		if discovery, err = m.o.discovery.Discovery(ctx); err != nil {
			return nil, fmt.Errorf("reading the discovery document: %w", err)
		}
	}
	in, err := m.cfg.LabInput(m.o.env, nschema.LabRequest{
		User: s.req.User, Token: s.req.Token, Size: s.req.Size,
		EnableDebug: s.req.EnableDebug, ResetUserEnv: s.req.ResetUserEnv,
		Env: s.req.Env, Image: s.image, Namespace: m.cluster.Namespace,
		Secrets: secrets, PullSecret: pull, Discovery: discovery,
	})
	if err != nil {
		return nil, err
	}
	return m.renderer.Render("lab", in)
}

// readSecrets reads the Secrets that lab.secrets names, in sorted name
// order. A Secret that does not exist is left out (the input builder
// reports it); other failures are *apply.ObjectError ("Error reading object
// (Secret nublado/extra-secret, status 400): ...").
func (m *Manager) readSecrets(ctx context.Context) (map[string]map[string][]byte, error) {
	var names []string
	for _, s := range m.cfg.Lab.Secrets {
		names = append(names, s.SecretName)
	}
	slices.Sort(names)
	out := map[string]map[string][]byte{}
	for _, name := range slices.Compact(names) {
		obj, err := m.readSecret(ctx, name)
		if err != nil {
			return nil, err
		}
		if obj != nil {
			out[name] = obj.Data
		}
	}
	return out, nil
}

// readPullSecret reads the Secret lab.pullSecret names; nil when unset or
// missing.
func (m *Manager) readPullSecret(ctx context.Context) (*nschema.SecretCopy, error) {
	if m.cfg.Lab.PullSecret == "" {
		return nil, nil
	}
	return m.readSecret(ctx, m.cfg.Lab.PullSecret)
}

// readSecret reads a Secret of the controller's namespace with its data
// decoded; nil when it does not exist. Concurrent reads of one Secret (a
// burst of spawns) share one request, bounded by callTimeout; the result
// must not be modified.
func (m *Manager) readSecret(ctx context.Context, name string) (*nschema.SecretCopy, error) {
	ch := m.secretReads.DoChan(name, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
		defer cancel()
		return m.getSecret(rctx, name)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*nschema.SecretCopy), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// getSecret reads a Secret of the controller's namespace.
func (m *Manager) getSecret(ctx context.Context, name string) (*nschema.SecretCopy, error) {
	ns := m.cluster.Namespace
	obj, err := m.getRetrying(ctx, m.cluster.Dynamic.Resource(secretsGVR).Namespace(ns), name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	ref := apply.ObjectRef{Kind: "Secret", Namespace: ns, Name: name}
	if err != nil {
		return nil, apply.NewObjectError("reading object", ref, err)
	}
	data, _, _ := unstructured.NestedStringMap(obj.Object, "data")
	out := &nschema.SecretCopy{Data: make(map[string][]byte, len(data))}
	out.Type, _, _ = unstructured.NestedString(obj.Object, "type")
	for k, v := range data {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, &apply.ObjectError{Op: "reading object", Object: ref, Message: "invalid data of key " + k, Err: err}
		}
		out.Data[k] = b
	}
	return out, nil
}

// prepareNamespace checks the namespace of a user's lab before the apply.
// A namespace that exists without the lab label is not nublado's (decision
// D9): the spawn fails as the original's does, with a 409 on the namespace
// ("Error creating namespace (Namespace userlabs-rachel, status 409):
// namespaces "userlabs-rachel" already exists"), and nublado never adopts,
// labels or deletes it. A lab namespace that is being deleted is waited for
// until it is gone, since nothing can be created in it. It reports whether
// the namespace does not exist (any more).
func (m *Manager) prepareNamespace(ctx context.Context, user string) (absent bool, err error) {
	name := m.namespace(user)
	ref := apply.ObjectRef{Kind: "Namespace", Name: name}
	obj, err := m.getRetrying(ctx, m.cluster.Dynamic.Resource(namespacesGVR), name)
	switch {
	case apierrors.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, apply.NewObjectError("reading namespace", ref, err)
	case !isLab(obj):
		return false, &apply.ObjectError{Op: "creating namespace", Object: ref, Status: 409,
			Message: fmt.Sprintf("namespaces %q already exists", name)}
	case obj.GetDeletionTimestamp() != nil:
		_, err := m.cluster.Applier.Delete(ctx, []*unstructured.Unstructured{namespaceObject(name)}, true)
		return err == nil, err
	}
	return false, nil
}

// finishSpawn returns the finish function of a spawn-type operation started
// at start: the terminal events, the status, the log line and the metric.
func (m *Manager) finishSpawn(rec *record, start time.Time) func(context.Context, error) error {
	return func(ctx context.Context, err error) error {
		err = outcome(ctx, err)
		elapsed := time.Since(start)
		entry := m.log.WithFields(logrus.Fields{FieldUser: rec.user, FieldDuration: elapsed.Milliseconds()})
		switch {
		case err == nil:
			if rec.state != nil {
				rec.state.Status = nublado.LabRunning
				entry = entry.WithField(FieldImage, rec.state.Options.Image)
			}
			entry.Info("Lab created")
			m.emit(rec, nublado.EventComplete, "Lab Kubernetes pod started for "+rec.user, 0)
		case errors.Is(err, errCancelled):
			m.emit(rec, nublado.EventFailed, errCancelled.Error(), 0)
		default:
			if rec.state != nil {
				rec.state.Status = nublado.LabFailed
			}
			entry.WithError(err).Error("Lab spawn failed")
			m.o.reporter.Report(rec.user, err)
			m.emit(rec, nublado.EventError, userMessage(err), 0)
			m.emit(rec, nublado.EventFailed, "Lab spawn failed", 0)
		}
		m.o.metrics.SpawnFinished(err == nil, elapsed)
		return err
	}
}

// outcome is the result of an operation: err, or the reason its context
// ended (errCancelled or a *timeoutError) when it failed because of that.
func outcome(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// userMessage is the text of an error event: the object error's when there
// is one (the first, when several objects failed), the API message of a
// *nublado.Error, else the error's text.
func userMessage(err error) string {
	var oe *apply.ObjectError
	var ne *nublado.Error
	switch {
	case errors.As(err, &oe):
		return oe.Error()
	case errors.As(err, &ne):
		return ne.Message
	}
	return err.Error()
}
