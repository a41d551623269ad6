package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// serveParams is what serveUntilSignal serves and how it stops.
type serveParams struct {
	server   *http.Server
	listener net.Listener
	// timeout bounds the whole shutdown: the HTTP server's and stop's.
	timeout time.Duration
	// notice, when set, is told "shutting down" when ctx ends.
	notice io.Writer
	// stop, when set, runs once the HTTP server has shut down, with the
	// shutdown's deadline: what the command closes before it says it
	// stopped.
	stop func(ctx context.Context) error
}

// serveUntilSignal serves HTTP on the listener until ctx ends (main ends it
// on SIGINT or SIGTERM) or serving fails, then shuts the server down and
// runs stop, within timeout. An error of serving or of shutting the server
// down is a *serveError; stop's error is returned as it is.
func serveUntilSignal(ctx context.Context, p serveParams) error {
	s := startHTTP(p.server, p.listener, nil)
	select {
	case <-ctx.Done():
	case <-s.served:
		return &serveError{err: s.err}
	}
	if p.notice != nil {
		fmt.Fprintln(p.notice, "shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	if err := s.shutdown(shutdownCtx); err != nil {
		return &serveError{shutdown: true, err: err}
	}
	if p.stop != nil {
		return p.stop(shutdownCtx)
	}
	return nil
}

// httpServer is an HTTP server serving in a goroutine of its own, which
// shutdown ends and waits for.
type httpServer struct {
	server *http.Server
	served chan struct{} // closed when Serve has returned
	err    error         // what Serve returned
}

// startHTTP serves srv on ln in a goroutine. errFunc, when set, is called
// with the error that ends serving other than a shutdown.
func startHTTP(srv *http.Server, ln net.Listener, errFunc func(error)) *httpServer {
	s := &httpServer{server: srv, served: make(chan struct{})}
	go func() {
		defer close(s.served)
		s.err = srv.Serve(ln)
		if errFunc != nil && !errors.Is(s.err, http.ErrServerClosed) {
			errFunc(s.err)
		}
	}()
	return s
}

// shutdown stops accepting connections, waits within ctx for the requests
// in flight, and waits for the serving goroutine.
func (s *httpServer) shutdown(ctx context.Context) error {
	err := s.server.Shutdown(ctx)
	<-s.served // Shutdown closed the listener, so Serve has returned or soon will
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveError is an error of serving HTTP, or of shutting the server down.
type serveError struct {
	shutdown bool
	err      error
}

func (e *serveError) Error() string {
	if e.shutdown {
		return "shutting down HTTP: " + e.err.Error()
	}
	return "serving HTTP: " + e.err.Error()
}

func (e *serveError) Unwrap() error { return e.err }
