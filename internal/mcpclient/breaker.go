package mcpclient

import (
	"context"
	"errors"
)

// callerEnded marks an error that came with the caller's own context
// ending (the step's deadline, a cancelled call): it says nothing of the
// server, so the circuit breaker leaves it out of its counts. A deadline
// of the pool's own for the server (call_timeout_seconds, the connect
// timeout) is the server's failure and counts.
type callerEnded struct{ err error }

func (e *callerEnded) Error() string { return e.err.Error() }
func (e *callerEnded) Unwrap() error { return e.err }

// execute runs f through ep's circuit breaker, counting its error against
// the server only when ctx, the caller's context, is still live.
func (ep *endpoint) execute(ctx context.Context, f func() error) error {
	_, err := ep.breaker.Execute(func() (any, error) {
		err := f()
		if err != nil && ctx.Err() != nil {
			return nil, &callerEnded{err: err}
		}
		return nil, err
	})
	var ce *callerEnded
	if errors.As(err, &ce) {
		return ce.err
	}
	return err
}

// excludedFromBreaker reports whether err is left out of a breaker's
// counts: the caller's context ended.
func excludedFromBreaker(err error) bool {
	var ce *callerEnded
	return errors.As(err, &ce) || errors.Is(err, context.Canceled)
}

// UnavailableErrorCode is the JSON-RPC error code (in the range the
// specification leaves to servers) a server answers a call with when a
// dependency of its own, such as its database, is unavailable and the
// call may be sent again later: the pool names it MCP.Unavailable, which
// a workflow's retry policy retries, where any other error the server
// answers is MCP.ToolError. The server is up, so its circuit stays
// closed.
const UnavailableErrorCode = -32050
