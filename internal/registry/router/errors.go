package router

import (
	"errors"
	"fmt"
)

// The kinds of the router's errors; an *Error is one of them (errors.Is).
var (
	// ErrBadRequest: the request names neither or both of a service and a
	// capability, or its version constraint does not parse.
	ErrBadRequest = errors.New("bad route request")
	// ErrNotFound: no service of that name, none offering that
	// capability, or no version satisfying the constraint.
	ErrNotFound = errors.New("no such service")
	// ErrUnavailable: the service has no healthy instance (all starting,
	// unhealthy, ejected, draining, or none).
	ErrUnavailable = errors.New("no healthy instance")
	// ErrNoOperation: the method and path match no operation of the
	// chosen service version.
	ErrNoOperation = errors.New("no matching operation")
	// ErrCircuitOpen: every healthy instance's circuit breaker is open.
	ErrCircuitOpen = errors.New("every circuit is open")
	// ErrExhausted: Next has handed out every instance it could.
	ErrExhausted = errors.New("no instance left to try")
	// ErrSource: the services could not be listed, and the last listing
	// is older than MaxStale.
	ErrSource = errors.New("the services could not be listed")
)

// Error is a routing failure: Kind is one of the Err* values above, and
// Message says what and where for a person.
type Error struct {
	Kind    error
	Message string
	// Err is the source's error, for ErrSource.
	Err error
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the source's error, if any.
func (e *Error) Unwrap() error { return e.Err }

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}
