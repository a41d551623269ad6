package sqsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
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

// handler is the http.Handler NewHandler returns.
type handler struct {
	b         Broker
	log       *slog.Logger
	maxBody   int64
	requestID func() string
	queueURL  func(string) string
}

// NewHandler returns the HTTP handler of the SQS API over b. It answers
// every path and host, so it can be mounted under a prefix and reached by
// a queue's URL as well as by the endpoint.
func NewHandler(b Broker, opts Options) http.Handler {
	h := &handler{b: b, log: opts.Logger, maxBody: opts.MaxBodyBytes, requestID: opts.RequestIDFunc, queueURL: opts.QueueURLFunc}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	if h.requestID == nil {
		h.requestID = uuid.NewString
	}
	return h
}

// apiError is an error answered to the caller: an HTTP status, the SQS
// code and a message meant for the caller.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// ServeHTTP decodes one request, calls the Broker and encodes the result
// or the error.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := h.requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	defer func() {
		// A panic in the Broker is an internal failure of one request,
		// answered as such, not a dropped connection.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.writeError(w, r, reqID, action, fmt.Errorf("serving %s: panic: %v", action, v))
		}
	}()

	out, err := h.serve(w, r, action)
	if err != nil {
		h.writeError(w, r, reqID, action, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, r, reqID, action, fmt.Errorf("encoding %s response: %w", action, err))
		return
	}
	h.log.DebugContext(r.Context(), "sqsapi request", "action", action, "status", http.StatusOK, "requestId", reqID)
	writeBody(w, http.StatusOK, body)
}

// serve checks the request's envelope, decodes its members and runs the
// action.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, action string) (any, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &apiError{status: http.StatusMethodNotAllowed, code: CodeUnknownOperation,
			message: fmt.Sprintf("method %s is not allowed: the SQS API takes POST requests", r.Method)}
	}
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		return nil, badRequest(CodeUnknownOperation, "missing X-Amz-Target header: expected %s<Action> (the query protocol is not served)", targetPrefix)
	}
	run, ok := actions[action]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if _, known := unsupportedActions[action]; known && strings.HasPrefix(target, targetPrefix) {
			return nil, badRequest(CodeUnsupportedOperation, "action %s is not supported by the local queues, which have no %s", action, unsupportedActions[action])
		}
		return nil, badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target", target)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/x-amz-json-1.1" && mt != "application/json") {
			return nil, badRequest(CodeSerialization, "content type %q of %s request is not %s", ct, action, contentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: CodeBatchRequestTooLong,
				message: fmt.Sprintf("%s request body exceeds %d bytes", action, h.maxBody)}
		}
		return nil, badRequest(CodeSerialization, "reading %s request body: %v", action, err)
	}
	m, err := parseMembers(action, body)
	if err != nil {
		return nil, err
	}
	return run(h, r.Context(), m)
}

// writeError answers an error: *apiError and *Error as they are (with
// 400), anything else as a 500 InternalFailure whose text only the log
// sees.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, reqID, action string, err error) {
	var (
		ae *apiError
		ee *Error
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ee):
		ae = badRequest(ee.Code, "%s", ee.Message)
	default:
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the caller went away; nobody reads the answer
		}
		h.log.Log(r.Context(), level, "sqsapi internal failure", "action", action, "requestId", reqID, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: CodeInternalFailure,
			message: "internal failure; request id " + reqID}
	}
	h.log.DebugContext(r.Context(), "sqsapi request", "action", action, "status", ae.status, "requestId", reqID, "errorType", ae.code)
	fault := "Sender"
	if ae.status >= 500 {
		fault = "Receiver"
	}
	query := ae.code
	if q, ok := queryCodes[ae.code]; ok {
		query = q
	}
	w.Header().Set("x-amzn-query-error", query+";"+fault)
	body, _ := json.Marshal(errorBody{Type: errorType(ae.code), Message: ae.message})
	writeBody(w, ae.status, body)
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

// errorBody is the body of an error response.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the caller went away
}

// action decodes an action's members, calls the Broker and returns the
// response to encode.
type action func(h *handler, ctx context.Context, m *members) (any, error)
