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
	served := make(chan error, 1)
	go func() { served <- p.server.Serve(p.listener) }()
	select {
	case <-ctx.Done():
	case err := <-served:
		return &serveError{err: err}
	}
	if p.notice != nil {
		fmt.Fprintln(p.notice, "shutting down")
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
	defer cancel()
	err := p.server.Shutdown(shutdownCtx)
	<-served // Shutdown has closed the listener: Serve has returned
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &serveError{shutdown: true, err: err}
	}
	if p.stop != nil {
		return p.stop(shutdownCtx)
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
