package sfnapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aiflow/aiflow/internal/awsjson"
	"github.com/aiflow/aiflow/internal/sfn"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes
// is 0: room for a state machine definition at Step Functions' 1 MiB limit
// even after JSON escaping has grown it.
const DefaultMaxBodyBytes = 4 << 20

// Error types the handler itself answers with, beside the Service's codes.
const (
	// CodeUnknownOperation is the error type of a request whose
	// X-Amz-Target names no operation of this API.
	CodeUnknownOperation = awsjson.CodeUnknownOperation
	// CodeSerialization is the error type of a body that is not JSON, has a
	// member of the wrong type, or a member the operation does not have.
	CodeSerialization = awsjson.CodeSerialization
	// CodeInternalFailure is the error type of a failure inside the
	// service; its message never carries the failure's text.
	CodeInternalFailure = awsjson.CodeInternalFailure
)

// targetPrefix starts every X-Amz-Target of the Step Functions API.
const targetPrefix = "AWSStepFunctions."

// errorTypePrefix is the namespace of the service's error shapes; SDKs
// keep what follows the '#'.
const errorTypePrefix = "com.amazonaws.swf.service.v2.model#"

// contentType is the media type of AWS JSON 1.0 bodies.
const contentType = "application/x-amz-json-1.0"

// Options configures NewHandler.
type Options struct {
	// Logger receives internal failures (with their request ids) and one
	// debug record per request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// RequestIDFunc makes the x-amzn-RequestId of each response; nil
	// means random UUIDs.
	RequestIDFunc func() string
}

// handler holds the Service the operations call.
type handler struct {
	svc sfn.Service
}

// NewHandler returns the HTTP handler of the Step Functions API over svc.
// It answers every path, so it can be mounted under a prefix, and every
// host, so the "sync-" host prefix clients put before StartSyncExecution
// needs no DNS name of its own.
func NewHandler(svc sfn.Service, opts Options) http.Handler {
	h := &handler{svc: svc}
	return awsjson.NewServer(awsjson.Config{
		Name: "sfnapi", API: "Step Functions", OpKey: "op",
		TargetPrefix: targetPrefix, ContentType: contentType,
		ContentTypes: []string{contentType, "application/x-amz-json-1.1", "application/json"},
		Route:        h.route,
		TooLargeCode: sfn.CodeValidation, InternalCode: CodeInternalFailure,
		ErrorOf:      errorOf,
		ErrorType:    func(code string) string { return errorTypePrefix + code },
		ErrorHeaders: func(h http.Header, e *apiError) { h.Set("x-amzn-ErrorType", e.Code) },
		Logger:       opts.Logger, MaxBodyBytes: opts.MaxBodyBytes, DefaultMaxBodyBytes: DefaultMaxBodyBytes,
		RequestIDFunc: opts.RequestIDFunc,
	})
}

// apiError is an error answered to the caller: an HTTP status, the error
// type and a message meant for the caller.
type apiError = awsjson.Error

func badRequest(code, format string, args ...any) *apiError {
	return awsjson.BadRequest(code, format, args...)
}

// route returns the operation X-Amz-Target names, which decodes the
// request's members and runs it.
func (h *handler) route(op, target string) (awsjson.Operation, error) {
	run, ok := operations[op]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if target == "" {
			return nil, badRequest(CodeUnknownOperation, "missing X-Amz-Target header: expected %s<Operation>", targetPrefix)
		}
		return nil, badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target", target)
	}
	return func(ctx context.Context, c *awsjson.Call) (any, error) {
		if err := checkText(c.Op, c.Body); err != nil {
			return nil, err
		}
		m, err := parseMembers(c.Op, c.Body)
		if err != nil {
			return nil, err
		}
		return run(h, ctx, m)
	}, nil
}

// errorOf translates a *sfn.Error: ServiceUnavailable with 503, the rest
// with 400; anything else is an internal failure.
func errorOf(err error) *apiError {
	var ee *sfn.Error
	if !errors.As(err, &ee) {
		return nil
	}
	ae := &apiError{Status: http.StatusBadRequest, Code: ee.Code, Message: ee.Message}
	if ee.Code == sfn.CodeServiceUnavailable {
		ae.Status = http.StatusServiceUnavailable
	}
	return ae
}

// operation decodes an operation's members, calls the Service and returns
// the response to encode.
type operation func(h *handler, ctx context.Context, m *members) (any, error)
