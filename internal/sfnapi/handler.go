package sfnapi

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
	CodeUnknownOperation = "UnknownOperationException"
	// CodeSerialization is the error type of a body that is not JSON, has a
	// member of the wrong type, or a member the operation does not have.
	CodeSerialization = "SerializationException"
	// CodeInternalFailure is the error type of a failure inside the
	// service; its message never carries the failure's text.
	CodeInternalFailure = "InternalFailure"
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

// handler is the http.Handler NewHandler returns.
type handler struct {
	svc       sfn.Service
	log       *slog.Logger
	maxBody   int64
	requestID func() string
}

// NewHandler returns the HTTP handler of the Step Functions API over svc.
// It answers every path, so it can be mounted under a prefix, and every
// host, so the "sync-" host prefix clients put before StartSyncExecution
// needs no DNS name of its own.
func NewHandler(svc sfn.Service, opts Options) http.Handler {
	h := &handler{svc: svc, log: opts.Logger, maxBody: opts.MaxBodyBytes, requestID: opts.RequestIDFunc}
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

// apiError is an error answered to the caller: an HTTP status, the error
// type and a message meant for the caller.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// ServeHTTP decodes one request, calls the Service and encodes the result
// or the error.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := h.requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	defer func() {
		// A panic in the Service is an internal failure of one request,
		// answered as such, not a dropped connection.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.writeError(w, r, reqID, op, fmt.Errorf("serving %s: panic: %v", op, v))
		}
	}()

	out, err := h.serve(w, r, op)
	if err != nil {
		h.writeError(w, r, reqID, op, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		h.writeError(w, r, reqID, op, fmt.Errorf("encoding %s response: %w", op, err))
		return
	}
	h.log.DebugContext(r.Context(), "sfnapi request", "op", op, "status", http.StatusOK, "requestId", reqID)
	writeBody(w, http.StatusOK, body)
}

// serve checks the request's envelope, decodes its members and runs the
// operation.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, op string) (any, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &apiError{status: http.StatusMethodNotAllowed, code: CodeUnknownOperation,
			message: fmt.Sprintf("method %s is not allowed: the Step Functions API takes POST requests", r.Method)}
	}
	target := r.Header.Get("X-Amz-Target")
	run, ok := operations[op]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if target == "" {
			return nil, badRequest(CodeUnknownOperation, "missing X-Amz-Target header: expected %s<Operation>", targetPrefix)
		}
		return nil, badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target", target)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/x-amz-json-1.1" && mt != "application/json") {
			return nil, badRequest(CodeSerialization, "content type %q of %s request is not %s", ct, op, contentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, code: sfn.CodeValidation,
				message: fmt.Sprintf("%s request body exceeds %d bytes", op, h.maxBody)}
		}
		return nil, badRequest(CodeSerialization, "reading %s request body: %v", op, err)
	}
	m, err := parseMembers(op, body)
	if err != nil {
		return nil, err
	}
	return run(h, r.Context(), m)
}

// writeError answers an error: *apiError and *sfn.Error as they are
// (ServiceUnavailable with 503, the rest with 400), anything else as a 500
// InternalFailure whose text only the log sees.
func (h *handler) writeError(w http.ResponseWriter, r *http.Request, reqID, op string, err error) {
	var (
		ae *apiError
		ee *sfn.Error
	)
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &ee):
		ae = &apiError{status: http.StatusBadRequest, code: ee.Code, message: ee.Message}
		if ee.Code == sfn.CodeServiceUnavailable {
			ae.status = http.StatusServiceUnavailable
		}
	default:
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the caller went away; nobody reads the answer
		}
		h.log.Log(r.Context(), level, "sfnapi internal failure", "op", op, "requestId", reqID, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: CodeInternalFailure,
			message: "internal failure; request id " + reqID}
	}
	h.log.DebugContext(r.Context(), "sfnapi request", "op", op, "status", ae.status, "requestId", reqID, "errorType", ae.code)
	body, _ := json.Marshal(errorBody{Type: errorTypePrefix + ae.code, Message: ae.message})
	w.Header().Set("x-amzn-ErrorType", ae.code)
	writeBody(w, ae.status, body)
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

// operation decodes an operation's members, calls the Service and returns
// the response to encode.
type operation func(h *handler, ctx context.Context, m *members) (any, error)
