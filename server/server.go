package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sirupsen/logrus"

	nublado "github.com/nublado-go/nublado"
	"github.com/nublado-go/nublado/schema"
	"github.com/nublado-go/nublado/server/alert"
	"github.com/nublado-go/nublado/server/events"
)

// Labs is the lab manager as the server uses it (server/labs implements
// it). All methods are called concurrently.
type Labs interface {
	// Running returns the users whose lab status is running, in the order
	// their records were created; empty, not nil, when there are none.
	Running(ctx context.Context) []string
	// State returns the user's lab state from memory. It returns
	// nublado.ErrLabNotFound when the user has no record or the record has
	// no state (after a delete).
	State(ctx context.Context, user string) (*nublado.LabState, error)
	// Create runs steps 4–11 of §1.3 #6 for a request whose user passed
	// the server's checks (token, path, spawn quota, uid, gid): it
	// records the user, resolves the image, checks size and quota and
	// conflicts, starts the spawn in the background and returns. Errors a
	// client sees are *nublado.Error with the spec's codes, messages and
	// locs (unknown_image, invalid_docker_reference, invalid_lab_size,
	// insufficient_quota, operation_in_progress, lab_exists); any other
	// error is a 500.
	Create(ctx context.Context, req nublado.CreateRequest) error
	// Delete deletes the user's lab and waits until it is gone (§1.3 #7).
	// It returns nublado.ErrLabNotFound for an unknown user or a null
	// state, a *nublado.Error for a conflicting operation, and any other
	// error for a failed deletion (answered 500 delete_failed).
	Delete(ctx context.Context, user string) error
	// Events returns a reader of the events of the user's current or most
	// recent operation, from its first event. It returns
	// nublado.ErrLabNotFound when the user never had a record.
	Events(ctx context.Context, user string) (*events.Reader, error)
}

// Users tells who a delegated token belongs to (Gafaelfawr's user-info;
// *gafaelfawr.Client implements it).
type Users interface {
	// UserInfo returns the token's user, or an error wrapping
	// gafaelfawr.ErrInvalidToken when Gafaelfawr rejects the token. The
	// user must not be modified.
	UserInfo(ctx context.Context, token string) (*nublado.User, error)
}

// Reporter reports failures to Slack (*alert.Reporter implements it).
type Reporter = alert.Sink

// nopReporter reports nothing.
type nopReporter = alert.Nop

// Server serves the controller's routes. Build it with [New].
type Server struct {
	cfg         *schema.Config
	labs        Labs
	users       Users
	images      Images
	fileServers FileServers
	fsadmin     FSAdmin
	reporter    Reporter
	gatherer    prometheus.Gatherer
	log         *logrus.Entry
	version     string
	ping        time.Duration
	maxBody     int64
	pages       *pages
	openapi     []byte
	mux         *chi.Mux
}

// Option configures a [Server].
type Option func(*Server)

// WithImages serves the lab form's images and routes #9 and #10 from im.
// Without it those routes answer 404 not_supported.
func WithImages(im Images) Option { return func(s *Server) { s.images = im } }

// WithFileServers serves routes #12–#15 and #19 from fs. Without it (file
// servers disabled) they answer 404 not_supported.
func WithFileServers(fs FileServers) Option { return func(s *Server) { s.fileServers = fs } }

// WithFSAdmin serves routes #16–#18 from fa. Without it they answer 404
// not_supported.
func WithFSAdmin(fa FSAdmin) Option { return func(s *Server) { s.fsadmin = fa } }

// WithReporter reports uncaught errors and panics of the routes (answered
// 500 text/plain) to r. Default: nothing is reported.
func WithReporter(r Reporter) Option { return func(s *Server) { s.reporter = r } }

// WithGatherer serves g at /metrics (default: an empty registry).
func WithGatherer(g prometheus.Gatherer) Option { return func(s *Server) { s.gatherer = g } }

// WithVersion sets the version reported by the metadata routes.
func WithVersion(v string) Option { return func(s *Server) { s.version = v } }

// WithPingInterval sets the keep-alive interval of event streams (default
// events.DefaultPingInterval, 15 s).
func WithPingInterval(d time.Duration) Option { return func(s *Server) { s.ping = d } }

// WithMaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes);
// larger bodies are answered 413.
func WithMaxBodyBytes(n int64) Option { return func(s *Server) { s.maxBody = n } }

// DefaultMaxBodyBytes is the default bound of a request body: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// New returns the controller's HTTP handler. cfg is the loaded
// configuration (path prefixes, name, base URL, lab sizes); labs and users
// are required; log receives one line per request and every 500. The
// handler sets no timeouts on requests: creates, deletes and file-server
// creation are bounded by the managers, and event streams last as long as
// the operation; give the http.Server a ReadHeaderTimeout, no WriteTimeout,
// and a BaseContext that is cancelled on shutdown so that streams end.
func New(cfg *schema.Config, labs Labs, users Users, log *logrus.Entry, opts ...Option) http.Handler {
	s := &Server{
		cfg: cfg, labs: labs, users: users, log: log,
		gatherer: prometheus.NewRegistry(),
		reporter: nopReporter{},
		version:  "unknown",
		ping:     events.DefaultPingInterval,
		maxBody:  DefaultMaxBodyBytes,
		pages:    mustParsePages(),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.mux = chi.NewRouter()
	s.mux.Use(s.logRequests, s.recoverPanics)
	s.mux.NotFound(s.notFound)
	s.mux.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusMethodNotAllowed, plainDetail{"Method Not Allowed"})
	})
	routes := s.routes()
	for _, rt := range routes {
		s.mux.Method(rt.method, rt.path, s.handle(rt.handler))
	}
	s.openapi = mustOpenAPI(s, routes)
	return s.mux
}

// prefix is the controller's path prefix without a trailing slash.
func (s *Server) prefix() string { return strings.TrimSuffix(s.cfg.PathPrefix, "/") }

// metricsHandler serves the Prometheus registry.
func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.gatherer, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}
