package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/sirupsen/logrus"

	"github.com/nublado-go/nublado/server/alert"
)

// Log field keys set by the server.
const (
	FieldRequestID   = "request_id"
	FieldHTTPRequest = "httpRequest"
	FieldUser        = "user"
)

type logKey struct{}

// NewContext returns a copy of ctx that carries entry.
func NewContext(ctx context.Context, entry *logrus.Entry) context.Context {
	return context.WithValue(ctx, logKey{}, entry)
}

// LoggerFrom returns the entry carried by ctx (the request's logger, with
// request_id and httpRequest), or fallback when there is none.
func LoggerFrom(ctx context.Context, fallback *logrus.Entry) *logrus.Entry {
	if e, ok := ctx.Value(logKey{}).(*logrus.Entry); ok {
		return e
	}
	return fallback
}

// newRequestID returns a random UUID (version 4) string.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// remoteIP is the client address: the first X-Forwarded-For entry when the
// ingress set one, else the connection's peer.
func remoteIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		return strings.TrimSpace(strings.Split(xff, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// logRequests gives every request a logger with request_id and
// httpRequest {requestMethod, requestUrl, remoteIp, userAgent} (Safir's
// fields) and logs one line when it ends. Request headers are never
// logged, so neither is the delegated token. Health checks (GET /) and
// metric scrapes are logged at debug level.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		entry := s.log.WithFields(logrus.Fields{
			FieldRequestID: newRequestID(),
			FieldHTTPRequest: map[string]string{
				"requestMethod": r.Method,
				"requestUrl":    requestURL(r),
				"remoteIp":      remoteIP(r),
				"userAgent":     r.UserAgent(),
			},
		})
		if user := r.Header.Get(headerUser); user != "" {
			entry = entry.WithField(FieldUser, user)
		}
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r.WithContext(NewContext(r.Context(), entry)))
		done := entry.WithFields(logrus.Fields{
			"status":      ww.Status(),
			"duration_ms": time.Since(start).Milliseconds(),
		})
		if r.Method == http.MethodGet && (r.URL.Path == "/" || r.URL.Path == "/metrics") && ww.Status() < 400 {
			done.Debug("Request handled")
			return
		}
		done.Info("Request handled")
	})
}

// requestURL is the URL as the client asked for it.
func requestURL(r *http.Request) string {
	scheme, host := externalBase(r)
	return scheme + "://" + host + r.URL.RequestURI()
}

// recoverPanics answers a panicking handler with a plain-text 500 and logs
// the panic; http.ErrAbortHandler is passed on.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if rec == http.ErrAbortHandler {
				panic(rec)
			}
			LoggerFrom(r.Context(), s.log).WithField("panic", rec).Error("Uncaught panic in request")
			s.reporter.Report(pathUser(r), &alert.PanicError{Value: rec})
			writeInternalError(w)
		}()
		next.ServeHTTP(w, r)
	})
}

// externalBase returns the scheme and host the client used, honouring
// X-Forwarded-Proto and X-Forwarded-Host from the ingress (first value).
func externalBase(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p != "" {
		scheme = p
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" {
		host = h
	}
	return scheme, host
}

func firstValue(h string) string {
	return strings.TrimSpace(strings.Split(h, ",")[0])
}
