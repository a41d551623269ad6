// Package awsjson serves AWS APIs in the AWS JSON protocol (1.0 and 1.1)
// over HTTP: POST requests whose X-Amz-Target header names the operation
// and whose body is a JSON object of its members. It owns the machinery
// the services share (request ids, the envelope's checks, the body limit,
// panic recovery, encoding responses, error bodies with their __type, the
// strict decoding of members) and leaves to each service what is its own:
// the operations, the error codes and their namespaces, and the headers
// SDKs read errors from.
//
// It is a pure HTTP helper: it imports no package of aiflow and no SDK.
package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Error codes of the protocol itself, which every service answers with.
const (
	// CodeUnknownOperation is the error code of a request whose
	// X-Amz-Target names no operation, or whose method is not POST.
	CodeUnknownOperation = "UnknownOperationException"
	// CodeSerialization is the error code of a body that is not a JSON
	// object of the operation's members.
	CodeSerialization = "SerializationException"
	// CodeInternalFailure is AWS's common error code of a failure inside
	// the service (Secrets Manager names its own, InternalServiceError).
	CodeInternalFailure = "InternalFailure"
)

// Error is an error answered to the caller: an HTTP status, the error
// code and a message meant for the caller.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// BadRequest returns an Error with status 400.
func BadRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Call is one request an Operation serves.
type Call struct {
	// Op is the operation, the X-Amz-Target without the target prefix.
	Op string
	// Body is the request body, within the size limit.
	Body []byte
	// Subject is what the call is about, such as a secret's name, for
	// the log records under Config.SubjectKey; the Operation sets it.
	Subject string
}

// Operation runs one call and returns the response to encode as JSON.
type Operation func(ctx context.Context, c *Call) (any, error)

// Config is what a Server is told of its service.
type Config struct {
	// Name starts the log records' messages, such as "sfnapi".
	Name string
	// API names the service in the message refusing a method other than
	// POST, such as "Step Functions".
	API string
	// OpKey is the log attribute of the operation, such as "op"; empty
	// means "action".
	OpKey string
	// SubjectKey, when set, is the log attribute of the Call's Subject.
	SubjectKey string
	// ContentType is the media type of the response bodies.
	ContentType string
	// ContentTypes are the media types a request's Content-Type may have;
	// a request without one is accepted too.
	ContentTypes []string
	// Route returns the Operation of a request, given its operation (the
	// target without prefix) and its whole X-Amz-Target, or the error
	// refusing it.
	Route func(op, target string) (Operation, error)
	// TargetPrefix starts every X-Amz-Target of the service.
	TargetPrefix string
	// TooLargeCode is the error code of a body over the limit (answered
	// with 413).
	TooLargeCode string
	// InternalCode is the error code of a failure inside the service
	// (answered with 500 and a message that only names the request id).
	InternalCode string
	// ErrorOf translates the service's own errors; nil, or a nil result,
	// means the error is an internal failure unless it is an *Error.
	ErrorOf func(err error) *Error
	// ErrorType makes the __type of an error body from the code; nil
	// means the code itself.
	ErrorType func(code string) string
	// ErrorHeaders sets the headers of an error response beside the
	// content type, such as x-amzn-ErrorType; nil sets none.
	ErrorHeaders func(h http.Header, e *Error)
	// Logger receives internal failures (with their request ids) and one
	// debug record per request; nil discards.
	Logger *slog.Logger
	// MaxBodyBytes caps a request body; 0 or less means
	// DefaultMaxBodyBytes.
	MaxBodyBytes        int64
	DefaultMaxBodyBytes int64
	// RequestIDFunc makes the x-amzn-RequestId of each response; nil
	// means random UUIDs.
	RequestIDFunc func() string
}

// Server is the http.Handler of one service. It answers every path and
// host.
type Server struct {
	cfg Config
}

// NewServer returns the Server of the service cfg describes.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = cfg.DefaultMaxBodyBytes
	}
	if cfg.RequestIDFunc == nil {
		cfg.RequestIDFunc = uuid.NewString
	}
	if cfg.OpKey == "" {
		cfg.OpKey = "action"
	}
	if cfg.ErrorType == nil {
		cfg.ErrorType = func(code string) string { return code }
	}
	return &Server{cfg: cfg}
}

// ServeHTTP checks one request's envelope, runs its Operation and encodes
// the result or the error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.cfg.RequestIDFunc()
	w.Header().Set("x-amzn-RequestId", reqID)
	c := &Call{Op: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), s.cfg.TargetPrefix)}
	defer func() {
		// A panic in the service is an internal failure of one request,
		// answered as such, not a dropped connection.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(w, r, reqID, c, fmt.Errorf("serving %s: panic: %v", c.Op, v))
		}
	}()

	out, err := s.serve(w, r, c)
	if err != nil {
		s.writeError(w, r, reqID, c, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, reqID, c, fmt.Errorf("encoding %s response: %w", c.Op, err))
		return
	}
	s.cfg.Logger.DebugContext(r.Context(), s.cfg.Name+" request", s.attrs(c, "status", http.StatusOK, "requestId", reqID)...)
	s.writeBody(w, http.StatusOK, body)
}

// serve checks the request's envelope, reads its body and runs its
// Operation.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *Call) (any, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, &Error{Status: http.StatusMethodNotAllowed, Code: CodeUnknownOperation,
			Message: fmt.Sprintf("method %s is not allowed: the %s API takes POST requests", r.Method, s.cfg.API)}
	}
	run, err := s.cfg.Route(c.Op, r.Header.Get("X-Amz-Target"))
	if err != nil {
		return nil, err
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !slices.Contains(s.cfg.ContentTypes, mt) {
			return nil, BadRequest(CodeSerialization, "content type %q of %s request is not %s", ct, c.Op, s.cfg.ContentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: s.cfg.TooLargeCode,
				Message: fmt.Sprintf("%s request body exceeds %d bytes", c.Op, s.cfg.MaxBodyBytes)}
		}
		return nil, BadRequest(CodeSerialization, "reading %s request body: %v", c.Op, err)
	}
	c.Body = body
	return run(r.Context(), c)
}

// writeError answers an error: an *Error as it is, one ErrorOf
// translates as translated, anything else as a 500 whose text only the
// log sees.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, reqID string, c *Call, err error) {
	var ae *Error
	if !errors.As(err, &ae) && s.cfg.ErrorOf != nil {
		ae = s.cfg.ErrorOf(err)
	}
	if ae == nil {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the caller went away; nobody reads the answer
		}
		s.cfg.Logger.Log(r.Context(), level, s.cfg.Name+" internal failure", s.attrs(c, "requestId", reqID, "err", err)...)
		ae = &Error{Status: http.StatusInternalServerError, Code: s.cfg.InternalCode,
			Message: "internal failure; request id " + reqID}
	}
	s.cfg.Logger.DebugContext(r.Context(), s.cfg.Name+" request", s.attrs(c, "status", ae.Status, "requestId", reqID, "errorType", ae.Code)...)
	if s.cfg.ErrorHeaders != nil {
		s.cfg.ErrorHeaders(w.Header(), ae)
	}
	body, _ := json.Marshal(errorBody{Type: s.cfg.ErrorType(ae.Code), Message: ae.Message})
	s.writeBody(w, ae.Status, body)
}

// attrs are the log attributes of a call followed by more.
func (s *Server) attrs(c *Call, more ...any) []any {
	a := []any{s.cfg.OpKey, c.Op}
	if s.cfg.SubjectKey != "" {
		a = append(a, s.cfg.SubjectKey, c.Subject)
	}
	return append(a, more...)
}

// errorBody is the body of an error response.
type errorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (s *Server) writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", s.cfg.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body) // a failed write means the caller went away
}
