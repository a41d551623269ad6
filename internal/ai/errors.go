package ai

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Code is a step error name a workflow's retry and catch match. The set is
// closed: every provider maps its failures onto these.
type Code string

// The error names of ai steps.
const (
	CodeThrottled       Code = "AI.Throttled"
	CodeUnavailable     Code = "AI.Unavailable"
	CodeTimeout         Code = "AI.Timeout"
	CodeInvalidRequest  Code = "AI.InvalidRequest"
	CodeAuth            Code = "AI.Auth"
	CodeContentFiltered Code = "AI.ContentFiltered"
	CodeOutputInvalid   Code = "AI.OutputInvalid"
	CodeBudgetExceeded  Code = "AI.BudgetExceeded"
)

// Codes lists every error name, for documentation and the type checker.
var Codes = []Code{
	CodeThrottled, CodeUnavailable, CodeTimeout, CodeInvalidRequest,
	CodeAuth, CodeContentFiltered, CodeOutputInvalid, CodeBudgetExceeded,
}

// Retryable reports whether a call that failed with this code may succeed if
// made again: throttling, an unavailable service and a timeout.
func (c Code) Retryable() bool {
	return c == CodeThrottled || c == CodeUnavailable || c == CodeTimeout
}

// Error is a failed model call. Message is safe to show a workflow's author
// (it never holds a key); RetryAfter is the wait the provider asked for, zero
// when it named none; Err is the provider's own error, kept for logs.
type Error struct {
	Code       Code
	Provider   string
	Message    string
	StatusCode int
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Provider == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", e.Code, e.Provider, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidRequestf builds provider's AI.InvalidRequest *Error with a
// formatted message: a request the provider's client cannot send.
func InvalidRequestf(provider, format string, args ...any) *Error {
	e := Errorf(CodeInvalidRequest, format, args...)
	e.Provider = provider
	return e
}

// CodeOf returns the code of err: its *Error's code, AI.Timeout for a
// deadline, AI.Unavailable for anything else (a cancelled context included,
// which callers check for themselves first).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeTimeout
	}
	return CodeUnavailable
}

// CodeForStatus maps an HTTP status from a model API to a code: 429 is
// throttling, 401 and 403 auth, 408 and 504 a timeout, other 4xx an invalid
// request, 5xx (and 529, Anthropic's overload) unavailability.
func CodeForStatus(status int) Code {
	switch {
	case status == 429:
		return CodeThrottled
	case status == 401 || status == 403:
		return CodeAuth
	case status == 408 || status == 504:
		return CodeTimeout
	case status >= 400 && status < 500:
		return CodeInvalidRequest
	default:
		return CodeUnavailable
	}
}
