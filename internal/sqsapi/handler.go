package sqsapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aiflow/aiflow/internal/awsjson"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes
// is 0: a batch of ten messages at SQS's 1 MiB limit, with room for
// JSON escaping.
const DefaultMaxBodyBytes = 4 << 20

// targetPrefix starts every X-Amz-Target of the SQS API.
const targetPrefix = "AmazonSQS."

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
	// QueueURLFunc makes the URL of a queue CreateQueue creates from its
	// name, such as the server's address followed by the account and the
	// name; nil lets the Broker choose.
	QueueURLFunc func(name string) string
}

// handler holds the Broker the actions call.
type handler struct {
	b        Broker
	queueURL func(string) string
}

// NewHandler returns the HTTP handler of the SQS API over b. It answers
// every path and host, so it can be mounted under a prefix and reached by
// a queue's URL as well as by the endpoint.
func NewHandler(b Broker, opts Options) http.Handler {
	h := &handler{b: b, queueURL: opts.QueueURLFunc}
	return awsjson.NewServer(awsjson.Config{
		Name: "sqsapi", API: "SQS",
		TargetPrefix: targetPrefix, ContentType: contentType,
		ContentTypes: []string{contentType, "application/x-amz-json-1.1", "application/json"},
		Route:        h.route,
		TooLargeCode: CodeBatchRequestTooLong, InternalCode: CodeInternalFailure,
		ErrorOf:      errorOf,
		ErrorType:    errorType,
		ErrorHeaders: queryError,
		Logger:       opts.Logger, MaxBodyBytes: opts.MaxBodyBytes, DefaultMaxBodyBytes: DefaultMaxBodyBytes,
		RequestIDFunc: opts.RequestIDFunc,
	})
}

// apiError is an error answered to the caller: an HTTP status, the SQS
// code and a message meant for the caller.
type apiError = awsjson.Error

func badRequest(code, format string, args ...any) *apiError {
	return awsjson.BadRequest(code, format, args...)
}

// route returns the action X-Amz-Target names, which decodes the
// request's members and runs it.
func (h *handler) route(name, target string) (awsjson.Operation, error) {
	if target == "" {
		return nil, badRequest(CodeUnknownOperation, "missing X-Amz-Target header: expected %s<Action> (the query protocol is not served)", targetPrefix)
	}
	run, ok := actions[name]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if _, known := unsupportedActions[name]; known && strings.HasPrefix(target, targetPrefix) {
			return nil, badRequest(CodeUnsupportedOperation, "action %s is not supported by the local queues, which have no %s", name, unsupportedActions[name])
		}
		return nil, badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target", target)
	}
	return func(ctx context.Context, c *awsjson.Call) (any, error) {
		m, err := parseMembers(c.Op, c.Body)
		if err != nil {
			return nil, err
		}
		return run(h, ctx, m)
	}, nil
}

// errorOf translates an *Error, with 400; anything else is an internal
// failure.
func errorOf(err error) *apiError {
	var ee *Error
	if !errors.As(err, &ee) {
		return nil
	}
	return badRequest(ee.Code, "%s", ee.Message)
}

// queryError sets the x-amzn-query-error header: the code of the query
// protocol and whose fault the error is.
func queryError(h http.Header, e *apiError) {
	fault := "Sender"
	if e.Status >= 500 {
		fault = "Receiver"
	}
	query := e.Code
	if q, ok := queryCodes[e.Code]; ok {
		query = q
	}
	h.Set("x-amzn-query-error", query+";"+fault)
}

// errorType is the __type of an error: the SQS namespace for SQS's
// errors, the service framework's for the protocol's own.
func errorType(code string) string {
	switch code {
	case CodeUnknownOperation, CodeSerialization, CodeInternalFailure:
		return "com.amazon.coral.service#" + code
	}
	return "com.amazonaws.sqs#" + code
}

// action decodes an action's members, calls the Broker and returns the
// response to encode.
type action func(h *handler, ctx context.Context, m *members) (any, error)
