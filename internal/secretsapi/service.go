package secretsapi

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aiflow/aiflow/internal/awsjson"
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
	store   Store
	region  string
	account string
	rand    io.Reader
	now     func() time.Time
	srv     *awsjson.Server

	// mu serialises changes, so that a PutSecretValue's read, new version
	// and write are one step.
	mu sync.Mutex
}

// New returns the Service over store.
func New(store Store, opts Options) *Service {
	s := &Service{store: store, region: opts.Region, account: opts.AccountID, rand: opts.Rand, now: opts.NowFunc}
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
	s.srv = awsjson.NewServer(awsjson.Config{
		Name: "secretsapi", API: "Secrets Manager", SubjectKey: "secret",
		TargetPrefix: targetPrefix, ContentType: contentType,
		ContentTypes: []string{contentType, "application/json"},
		Route:        s.route,
		TooLargeCode: CodeInvalidParameter, InternalCode: CodeInternalService,
		ErrorHeaders: func(h http.Header, e *apiError) { h.Set("X-Amzn-ErrorType", e.Code) },
		Logger:       opts.Logger, MaxBodyBytes: opts.MaxBodyBytes, DefaultMaxBodyBytes: DefaultMaxBodyBytes,
		RequestIDFunc: opts.RequestIDFunc,
	})
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
	CodeUnknownOperation = awsjson.CodeUnknownOperation
	// CodeSerialization answers a body that is not a JSON object of the
	// action's members.
	CodeSerialization = awsjson.CodeSerialization
	// CodeInternalService answers a failure inside the service, such as a
	// store that cannot be written; its message never carries the
	// failure's text.
	CodeInternalService = "InternalServiceError"
)

// apiError is an error answered to the caller: an HTTP status, the code
// and a message meant for the caller, which never holds a secret's value.
type apiError = awsjson.Error

func badRequest(code, format string, args ...any) *apiError {
	return awsjson.BadRequest(code, format, args...)
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
	s.srv.ServeHTTP(w, r)
}

// route returns the action X-Amz-Target names, which names the secret it
// is about for the log.
func (s *Service) route(action, target string) (awsjson.Operation, error) {
	run, ok := actions[action]
	if !ok || !strings.HasPrefix(target, targetPrefix) {
		if strings.HasPrefix(target, targetPrefix) && action != "" {
			return nil, badRequest(CodeInvalidRequest, "action %s is not supported by the local Secrets Manager, which serves %s", action, "GetSecretValue, DescribeSecret, ListSecrets, CreateSecret and PutSecretValue")
		}
		return nil, badRequest(CodeUnknownOperation, "unknown operation %q in X-Amz-Target: expected %s<Action>", target, targetPrefix)
	}
	return func(ctx context.Context, c *awsjson.Call) (any, error) {
		out, secret, err := run(s, ctx, c.Body)
		c.Subject = secret
		return out, err
	}, nil
}

// epoch is a time encoded as Secrets Manager does: seconds since the
// epoch, with milliseconds.
type epoch time.Time

// MarshalJSON encodes the time as fractional seconds.
func (e epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(e).UnixMilli())/1000, 'f', 3, 64), nil
}
