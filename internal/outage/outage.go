// Package outage owns the one class of error that says a dependency was
// unavailable (the database could not be reached, its connection was cut,
// it was shutting down or starting) rather than that the request was wrong.
// Packages that translate a library's errors classify them here once
// (Classify for pgx's), and whoever decides what to do with an error reads
// the class, never the library's types: the HTTP API answers 503 with
// Retry-After, the support desk answers a retryable MCP.Unavailable, and
// retries and circuit breakers treat it as transient.
package outage

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable is the class: errors.Is(err, ErrUnavailable) reports
// whether a dependency of err's maker was unavailable.
var ErrUnavailable = errors.New("a dependency is unavailable")

// RetryAfterSeconds is how long a caller told that a dependency is
// unavailable should wait before it tries again.
const RetryAfterSeconds = 1

// Error is an error of the unavailable class: Dependency names what was
// unavailable ("the database"), Err is the library's error, kept for logs.
type Error struct {
	Dependency string
	Err        error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Dependency + " is unavailable"
	}
	return e.Dependency + " is unavailable: " + e.Err.Error()
}

// Unwrap returns the library's error.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every *Error match ErrUnavailable.
func (e *Error) Is(target error) bool { return target == ErrUnavailable }

// Is reports whether err is of the unavailable class, classified already
// or a pgx error Classify would classify.
func Is(err error) bool {
	return errors.Is(err, ErrUnavailable) || isPGUnavailable(err)
}

// Classify returns err marked as of the unavailable class when it is a
// pgx (PostgreSQL) error that says the database could not be reached or
// dropped the connection; any other error (a constraint violation, no
// rows, a cancelled context) is returned as it is, as is nil.
func Classify(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) || !isPGUnavailable(err) {
		return err
	}
	return &Error{Dependency: "the database", Err: err}
}

// isPGUnavailable reports whether err says the database could not be
// reached or dropped the connection. A context that ended is the caller's
// own deadline, never the database's failure, unless the connection was
// being made (pgconn.ConnectError).
func isPGUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case len(pe.Code) == 5 && pe.Code[:2] == "08": // connection exception
			return true
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // admin or crash shutdown (pg_terminate_backend), cannot connect now
			return true
		case pe.Code == "53300": // too many connections
			return true
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err)
}
