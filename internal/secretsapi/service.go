package secretsapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults of Options.
const (
	DefaultRegion       = "us-east-1"
	DefaultAccountID    = "123456789012"
	DefaultMaxBodyBytes = 1 << 20 // a secret holds at most 64 KiB; JSON escaping and base64 grow it
)

// targetPrefix starts every X-Amz-Target of the Secrets Manager API.
const targetPrefix = "secretsmanager."

// contentType is the media type of AWS JSON 1.1 bodies.
const contentType = "application/x-amz-json-1.1"

// maxSecretBytes is Secrets Manager's limit on a secret's value.
const maxSecretBytes = 65536

// Options configure a Service.
type Options struct {
	// Region and AccountID go into the ARNs; empty means DefaultRegion
	// and DefaultAccountID.
	Region    string
	AccountID string
	// Rand is the source of the ARNs' random suffixes, the version ids
	// made when a request carries no ClientRequestToken, and the values
	// Ensure generates; nil means crypto/rand. Anything but a
	// cryptographically secure source is for tests only.
	Rand io.Reader
	// NowFunc is the clock of creation and change dates; nil means
	// time.Now.
	NowFunc func() time.Time
	// Logger receives internal failures (with their request ids) and one
	// debug record per request, naming the action and the secret but
	// never its value; nil discards.
	Logger *slog.Logger
	// RequestIDFunc makes the x-amzn-RequestId of each response; nil
	// means random UUIDs.
	RequestIDFunc func() string
	// MaxBodyBytes caps a request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
}

// Service is the Secrets Manager API over a Store. It is an http.Handler
// answering every path and host; it is safe for concurrent use.
type Service struct {
	store     Store
	region    string
	account   string
	rand      io.Reader
	now       func() time.Time
	log       *slog.Logger
	requestID func() string
	maxBody   int64

	// mu serialises changes, so that a PutSecretValue's read, new version
	// and write are one step.
	mu sync.Mutex
}

// New returns the Service over store.
func New(store Store, opts Options) *Service {
	s := &Service{
		store: store, region: opts.Region, account: opts.AccountID, rand: opts.Rand, now: opts.NowFunc,
		log: opts.Logger, requestID: opts.RequestIDFunc, maxBody: opts.MaxBodyBytes,
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.requestID == nil {
		s.requestID = uuid.NewString
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	return s
}

// Secrets Manager error codes, as the __type of the JSON protocol names
// them.
const (
	CodeResourceNotFound = "ResourceNotFoundException"
	CodeInvalidParameter = "InvalidParameterException"
	CodeInvalidRequest   = "InvalidRequestException"
	CodeResourceExists   = "ResourceExistsException"
	// CodeUnknownOperation answers an X-Amz-Target that names no action
	// of the Secrets Manager API.
	CodeUnknownOperation = "UnknownOperationException"
	// CodeSerialization answers a body that is not a JSON object of the
	// action's members.
	CodeSerialization = "SerializationException"
	// CodeInternalService answers a failure inside the service, such as a
	// store that cannot be written; its message never carries the
	// failure's text.
	CodeInternalService = "InternalServiceError"
)

// apiError is an error answered to the caller: an HTTP status, the code
// and a message meant for the caller, which never holds a secret's value.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badRequest(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, message: fmt.Sprintf(format, args...)}
}

// action runs one action on its decoded body and returns the response to
// encode, and the secret it was about for the log.
type action func(s *Service, ctx context.Context, body []byte) (out any, secret string, err error)

var actions = map[string]action{
	"GetSecretValue": (*Service).getSecretValue,
	"DescribeSecret": (*Service).describeSecret,
	"ListSecrets":    (*Service).listSecrets,
	"CreateSecret":   (*Service).createSecret,
	"PutSecretValue": (*Service).putSecretValue,
}

// ServeHTTP decodes one request, runs its action and encodes the result
// or the error.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := s.requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	out, secret, err := s.serve(w, r, action)
	if err != nil {
		s.writeError(w, r, reqID, action, secret, err)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		s.writeError(w, r, reqID, action, secret, fmt.Errorf("encoding %s response: %w", action, err))
		return
	}
	s.log.DebugContext(r.Context(), "secretsapi request", "action", action, "secret", secret, "status", http.StatusOK, "requestId", reqID)
	writeBody(w, http.StatusOK, body)
}

// serve checks the request's envelope and runs its action.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, action string) (any, string, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, "", &apiError{status: http.StatusMethodNotAllowed, code: CodeUnknownOperation,
			message: fmt.Sprintf("method %s is not allowed: the Secrets Manager API takes POST requests", r.Method)}
	}
	target := r.Header.Get("X-Amz-Target")
	run, ok := actions[action]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if strings.HasPrefix(target, targetPrefix) && action != "" {
			return nil, "", badRequest(CodeInvalidRequest, "action %s is not supported by the local Secrets Manager, which serves %s", action, "GetSecretValue, DescribeSecret, ListSecrets, CreateSecret and PutSecretValue")
		}
		return nil, "", badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target: expected %s<Action>", target, targetPrefix)
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != contentType && mt != "application/json") {
			return nil, "", badRequest(CodeSerialization, "content type %q of %s request is not %s", ct, action, contentType)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	if err != nil {
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, "", &apiError{status: http.StatusRequestEntityTooLarge, code: CodeInvalidParameter,
				message: fmt.Sprintf("%s request body exceeds %d bytes", action, s.maxBody)}
		}
		return nil, "", badRequest(CodeSerialization, "reading %s request body: %v", action, err)
	}
	return run(s, r.Context(), body)
}

// writeError answers an error: *apiError as it is, anything else as a
// 500 InternalServiceError whose text only the log sees.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, reqID, action, secret string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		level := slog.LevelError
		if r.Context().Err() != nil {
			level = slog.LevelInfo // the caller went away; nobody reads the answer
		}
		s.log.Log(r.Context(), level, "secretsapi internal failure", "action", action, "secret", secret, "requestId", reqID, "err", err)
		ae = &apiError{status: http.StatusInternalServerError, code: CodeInternalService,
			message: "internal failure; request id " + reqID}
	}
	s.log.DebugContext(r.Context(), "secretsapi request", "action", action, "secret", secret, "status", ae.status, "requestId", reqID, "errorType", ae.code)
	w.Header().Set("X-Amzn-ErrorType", ae.code)
	body, _ := json.Marshal(errorBody{Type: ae.code, Message: ae.message})
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

// epoch is a time encoded as Secrets Manager does: seconds since the
// epoch, with milliseconds.
type epoch time.Time

// MarshalJSON encodes the time as fractional seconds.
func (e epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(e).UnixMilli())/1000, 'f', 3, 64), nil
}
