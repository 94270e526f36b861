package server

import (
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
)

// route is one route of the router and of the OpenAPI document.
type route struct {
	method  string
	path    string
	handler handler
	op      operation
}

// Auth kinds of an operation (§1.1); routes without auth leave it empty.
const (
	authUser   = "U" // Gafaelfawr user dependency
	authPath   = "P" // X-Auth-Request-User equals the path user
	authHeader = "H" // the user is X-Auth-Request-User
)

// schemaHTML is the response "schema" of an HTML page.
const schemaHTML = "html"

// operation documents a route in the OpenAPI document.
type operation struct {
	id, summary, tag string
	auth             string
	body             string // request body schema, "" when none
	// responses maps a status to a schema name ("" for no body, schemaHTML
	// for an HTML page, "text" for plain text, "sse" for an event stream).
	responses map[int]string
}

// filesPrefix is fileserver.pathPrefix without a trailing slash.
func (s *Server) filesPrefix() string { return strings.TrimSuffix(s.cfg.Fileserver.PathPrefix, "/") }

// routes lists every route of the server.
func (s *Server) routes() []route {
	p := s.prefix()
	sp := p + "/spawner/v1"
	fsv := p + "/fileserver/v1"
	fa := p + "/fsadmin/v1/service"
	errs := func(m map[int]string, codes ...int) map[int]string {
		for _, c := range codes {
			switch c {
			case http.StatusUnprocessableEntity:
				m[c] = "HTTPValidationError"
			default:
				m[c] = "ErrorModel"
			}
		}
		return m
	}
	rs := []route{
		{http.MethodGet, "/", s.getRoot, operation{id: "get_root", summary: "Application metadata (health check)", tag: "internal",
			responses: map[int]string{200: "Metadata"}}},
		{http.MethodGet, "/metrics", s.metricsHandler, operation{id: "get_metrics", summary: "Prometheus metrics", tag: "internal",
			responses: map[int]string{200: "text"}}},
		{http.MethodGet, sp + "/lab-form/{username}", s.getLabForm, operation{id: "get_lab_form", summary: "Lab creation form", tag: "spawner",
			auth: authUser, responses: errs(map[int]string{200: schemaHTML}, 401, 403, 422)}},
		{http.MethodGet, sp + "/labs", s.getLabs, operation{id: "get_lab_users", summary: "Users with running labs", tag: "spawner",
			responses: map[int]string{200: "UserList"}}},
		{http.MethodGet, sp + "/labs/{username}", s.getLab, operation{id: "get_lab_state", summary: "Status of a user's lab", tag: "spawner",
			responses: errs(map[int]string{200: "LabState"}, 404)}},
		{http.MethodPost, sp + "/labs/{username}/create", s.createLab, operation{id: "post_new_lab", summary: "Create a user lab", tag: "spawner",
			auth: authUser, body: "LabSpecification", responses: errs(map[int]string{201: "null"}, 400, 401, 403, 409, 422)}},
		{http.MethodDelete, sp + "/labs/{username}", s.deleteLab, operation{id: "delete_user_lab", summary: "Delete a user's lab", tag: "spawner",
			responses: errs(map[int]string{204: ""}, 404, 409, 500)}},
		{http.MethodGet, sp + "/labs/{username}/events", s.getEvents, operation{id: "get_user_events", summary: "Progress events of a lab operation", tag: "spawner",
			auth: authPath, responses: errs(map[int]string{200: "sse"}, 403, 404, 422)}},
		{http.MethodGet, sp + "/images", s.getImages, operation{id: "get_images", summary: "Available lab images", tag: "spawner",
			responses: map[int]string{200: "SpawnerImages"}}},
		{http.MethodGet, sp + "/prepulls", s.getPrepulls, operation{id: "get_prepulls", summary: "Prepuller status", tag: "spawner",
			responses: map[int]string{200: "PrepullerStatus"}}},
		{http.MethodGet, sp + "/user-status", s.getUserStatus, operation{id: "get_user_status", summary: "Status of the caller's lab", tag: "spawner",
			auth: authHeader, responses: errs(map[int]string{200: "LabState"}, 404, 422)}},
		{http.MethodGet, fsv + "/users", s.getFileServers, operation{id: "get_fileserver_users", summary: "Users with running file servers", tag: "fileserver",
			responses: errs(map[int]string{200: "UserList"}, 404)}},
		{http.MethodGet, fsv + "/users/{username}", s.getFileServer, operation{id: "get_fileserver_status", summary: "Whether a user's file server runs", tag: "fileserver",
			responses: errs(map[int]string{200: "FileserverStatus"}, 404)}},
		{http.MethodDelete, fsv + "/users/{username}", s.deleteFileServer, operation{id: "delete_fileserver", summary: "Delete a user's file server", tag: "fileserver",
			responses: errs(map[int]string{204: ""}, 404, 500)}},
		{http.MethodGet, fsv + "/user-status", s.getFileServerUserStatus, operation{id: "get_fileserver_user_status", summary: "Whether the caller's file server runs", tag: "fileserver",
			auth: authHeader, responses: errs(map[int]string{200: "FileserverStatus"}, 404, 422)}},
		{http.MethodGet, fa, s.getFSAdmin, operation{id: "get_fsadmin", summary: "Status of the fsadmin pod", tag: "fsadmin",
			responses: errs(map[int]string{200: "FSAdminStatus"}, 404)}},
		{http.MethodPost, fa, s.postFSAdmin, operation{id: "post_fsadmin", summary: "Start the fsadmin pod", tag: "fsadmin",
			body: "FSAdminRequest", responses: errs(map[int]string{200: "FSAdminStatus"}, 404, 422)}},
		{http.MethodDelete, fa, s.deleteFSAdmin, operation{id: "delete_fsadmin", summary: "Stop the fsadmin pod", tag: "fsadmin",
			responses: map[int]string{204: ""}}},
		{http.MethodGet, s.filesPrefix(), s.getFiles, operation{id: "get_user_fileserver", summary: "Create the caller's file server", tag: "fileserver",
			auth: authUser, responses: errs(map[int]string{200: schemaHTML}, 401, 403, 404, 422, 500)}},
		{http.MethodGet, p + "/openapi.json", s.getOpenAPI, operation{id: "get_openapi", summary: "This OpenAPI document", tag: "internal",
			responses: map[int]string{200: "object"}}},
		{http.MethodGet, p + "/docs", s.getDocs, operation{id: "get_docs", summary: "Swagger UI", tag: "internal",
			responses: map[int]string{200: schemaHTML}}},
		{http.MethodGet, p + "/redoc", s.getRedoc, operation{id: "get_redoc", summary: "ReDoc", tag: "internal",
			responses: map[int]string{200: schemaHTML}}},
	}
	if p != "" {
		rs = append(rs, route{http.MethodGet, p, s.getIndex, operation{id: "get_index", summary: "Application metadata", tag: "internal",
			responses: map[int]string{200: "Index"}}})
	}
	return rs
}

// chiContext returns a fresh routing context for Mux.Match.
func chiContext() *chi.Context { return chi.NewRouteContext() }
