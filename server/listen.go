package server

import (
	"context"
	"net"
	"net/http"
	"time"
)

// ReadHeaderTimeout bounds how long a client may take to send its request
// headers.
const ReadHeaderTimeout = 10 * time.Second

// NewHTTPServer returns the http.Server the controller listens with: h on
// addr, a ReadHeaderTimeout, no read or write timeout (event streams and
// lab deletions last long; the managers bound their own work), and every
// request's context derived from ctx, so that cancelling ctx at shutdown
// ends open event streams and lets Shutdown finish.
func NewHTTPServer(ctx context.Context, addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}
