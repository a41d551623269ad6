package apigateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/lambdaemu"
)

// InvokeFunc invokes the function a route or a function URL integrates
// with (function is its logical id) with a request payload, and returns
// the function's result. An error (one wrapping lambdaemu.ErrDead, or any
// other) means the invocation itself failed; a function that ran and
// failed is a Result with FunctionError set.
type InvokeFunc func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error)

// MaxBodySize is the largest request body accepted, API Gateway's payload
// quota for HTTP APIs (10 MB). A larger one is answered 413.
const MaxBodySize = 10 << 20

// requestTimeLayout is the requestContext.time layout, e.g.
// 12/Mar/2020:19:03:58 +0000.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

// textTypes are the media types, beside text/*, whose bodies reach the
// function as text, as measured on HTTP APIs; every other body (one
// without a Content-Type, and application/x-www-form-urlencoded too) is
// base64-encoded, with isBase64Encoded set.
var textTypes = []string{"application/json", "application/javascript", "application/xml"}

// isText reports whether a body of Content-Type ct travels as text.
func isText(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || slices.Contains(textTypes, mt)
}

// errBodyTooLarge is returned by readBody for a body over MaxBodySize.
var errBodyTooLarge = errors.New("the request body is larger than 10 MB")

// readBody reads r's body as the event carries it: text as is, anything
// else base64-encoded. A text body that is not UTF-8 is base64-encoded
// too, rather than mangled by the event's JSON.
func readBody(r *http.Request) (body string, b64 bool, err error) {
	if r.Body == nil {
		return "", false, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBodySize+1))
	if err != nil {
		return "", false, fmt.Errorf("reading the request body: %w", err)
	}
	if len(raw) > MaxBodySize {
		return "", false, errBodyTooLarge
	}
	if len(raw) == 0 {
		return "", false, nil
	}
	if isText(r.Header.Get("Content-Type")) && utf8.Valid(raw) {
		return string(raw), false, nil
	}
	return base64.StdEncoding.EncodeToString(raw), true, nil
}

// event is a payload format 2.0 event, the one shape both fronts send:
// events.APIGatewayV2HTTPRequest and events.LambdaFunctionURLRequest
// decode it. It is a type of its own so that the fields AWS leaves out
// (authentication without mutual TLS) stay out.
type event struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Cookies               []string          `json:"cookies,omitempty"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`
	StageVariables        map[string]string `json:"stageVariables,omitempty"`
	RequestContext        eventContext      `json:"requestContext"`
	Body                  string            `json:"body,omitempty"`
	IsBase64Encoded       bool              `json:"isBase64Encoded"`
}

type eventContext struct {
	AccountID    string                                                      `json:"accountId"`
	APIID        string                                                      `json:"apiId"`
	Authorizer   *events.APIGatewayV2HTTPRequestContextAuthorizerDescription `json:"authorizer,omitempty"`
	DomainName   string                                                      `json:"domainName"`
	DomainPrefix string                                                      `json:"domainPrefix"`
	HTTP         events.APIGatewayV2HTTPRequestContextHTTPDescription        `json:"http"`
	RequestID    string                                                      `json:"requestId"`
	RouteKey     string                                                      `json:"routeKey"`
	Stage        string                                                      `json:"stage"`
	Time         string                                                      `json:"time"`
	TimeEpoch    int64                                                       `json:"timeEpoch"`
}

// newEvent reads what both fronts' events carry from r, with routeKey and
// stage $default: header names lowercased and duplicates comma-joined,
// the Cookie headers split into cookies, the query's parameters decoded
// with duplicates comma-joined, the headers the load balancer in front
// adds (x-forwarded-for, -port, -proto, and x-amzn-trace-id), and the
// body (see readBody).
func newEvent(r *http.Request, now time.Time, requestID string) (event, error) {
	ev := event{Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery, Headers: map[string]string{}}
	if ev.RawPath == "" {
		ev.RawPath = "/"
	}
	for name, values := range r.Header {
		name = strings.ToLower(name)
		if name == "cookie" {
			for _, v := range values {
				for c := range strings.SplitSeq(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[name] = strings.Join(values, ",")
	}
	host := r.Host
	ev.Headers["host"] = host
	if r.ContentLength > 0 {
		ev.Headers["content-length"] = fmt.Sprint(r.ContentLength)
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	if xff := ev.Headers["x-forwarded-for"]; xff != "" {
		ev.Headers["x-forwarded-for"] = xff + ", " + ip
	} else {
		ev.Headers["x-forwarded-for"] = ip
	}
	_, port, err := net.SplitHostPort(host)
	if err != nil {
		port = "80"
		if r.TLS != nil {
			port = "443"
		}
	}
	ev.Headers["x-forwarded-port"] = port
	ev.Headers["x-forwarded-proto"] = "http"
	if r.TLS != nil {
		ev.Headers["x-forwarded-proto"] = "https"
	}
	if _, ok := ev.Headers["x-amzn-trace-id"]; !ok {
		ev.Headers["x-amzn-trace-id"] = traceID(now)
	}
	if ev.RawQueryString != "" {
		q, err := url.ParseQuery(ev.RawQueryString)
		if err != nil {
			// A parameter that does not unescape is passed as written.
			q, _ = url.ParseQuery(strings.ReplaceAll(ev.RawQueryString, "%", "%25"))
		}
		if len(q) > 0 {
			ev.QueryStringParameters = map[string]string{}
			for k, vs := range q {
				ev.QueryStringParameters[k] = strings.Join(vs, ",")
			}
		}
	}
	if ev.Body, ev.IsBase64Encoded, err = readBody(r); err != nil {
		return ev, err
	}
	rc := &ev.RequestContext
	rc.HTTP = events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent(),
	}
	if rc.HTTP.Path == "" {
		rc.HTTP.Path = "/"
	}
	rc.DomainName = host
	if h, _, err := net.SplitHostPort(host); err == nil {
		rc.DomainName = h
	}
	rc.DomainPrefix, _, _ = strings.Cut(rc.DomainName, ".")
	rc.RequestID = requestID
	rc.RouteKey, rc.Stage = "$default", "$default"
	rc.Time = now.UTC().Format(requestTimeLayout)
	rc.TimeEpoch = now.UnixMilli()
	return ev, nil
}

// traceID returns an X-Ray trace header for a request that carries none.
func traceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%x", now.Unix(), b)
}

// apiRequestID returns an id shaped as API Gateway's (16 characters of
// base64).
func apiRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// response is a function's answer as API Gateway reads it.
type response struct {
	status  int
	headers map[string]string
	cookies []string
	body    []byte
}

// errMalformed says a function's payload is not a response API Gateway
// can read.
var errMalformed = errors.New("the function's response is malformed")

// readResponse reads a function's payload with the 2.0 format's rules: an
// object with a statusCode is the response (headers, cookies, body, base64
// when isBase64Encoded); any other JSON value is a 200 application/json
// response whose body is the payload.
func readResponse(payload []byte) (response, error) {
	if !json.Valid(payload) {
		return response{}, fmt.Errorf("%w: it is not JSON", errMalformed)
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(payload, &probe) != nil || probe["statusCode"] == nil {
		return response{status: http.StatusOK, headers: map[string]string{"content-type": "application/json"}, body: payload}, nil
	}
	var v struct {
		StatusCode      int               `json:"statusCode"`
		Headers         map[string]string `json:"headers"`
		Cookies         []string          `json:"cookies"`
		Body            *string           `json:"body"`
		IsBase64Encoded bool              `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(payload, &v); err != nil {
		return response{}, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if v.StatusCode < 100 || v.StatusCode > 599 {
		return response{}, fmt.Errorf("%w: statusCode %d is not an HTTP status", errMalformed, v.StatusCode)
	}
	res := response{status: v.StatusCode, headers: v.Headers, cookies: v.Cookies}
	if v.Body != nil {
		res.body = []byte(*v.Body)
		if v.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(*v.Body)
			if err != nil {
				return response{}, fmt.Errorf("%w: isBase64Encoded is true and the body is not base64: %w", errMalformed, err)
			}
			res.body = b
		}
	}
	return res, nil
}

// write sends res, with extra headers (the request id, CORS) set after
// the function's.
func (res response) write(w http.ResponseWriter, extra func(h http.Header)) {
	h := w.Header()
	for k, v := range res.headers {
		h.Set(k, v)
	}
	for _, c := range res.cookies {
		h.Add("Set-Cookie", c)
	}
	if extra != nil {
		extra(h)
	}
	if h.Get("Content-Type") == "" {
		// API Gateway sends no Content-Type the function did not give;
		// net/http would guess one.
		h["Content-Type"] = nil
	}
	h.Set("Content-Length", fmt.Sprint(len(res.body)))
	w.WriteHeader(res.status)
	_, _ = w.Write(res.body)
}

// writeMessage sends API Gateway's own answers: {"message":"..."}.
func writeMessage(w http.ResponseWriter, status int, message string) {
	body, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// invokeOutcome is how an invocation ended, for the caller to answer.
type invokeOutcome int

const (
	invokeOK invokeOutcome = iota
	invokeFunctionError
	invokeFailed
	invokeTimedOut
	invokeCanceled
	invokeMalformed
)

// invoke calls fn with payload under timeout (none when zero) and reads
// its response.
func invoke(ctx context.Context, log *slog.Logger, fn InvokeFunc, function string, payload []byte, timeout time.Duration) (response, invokeOutcome) {
	ictx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		ictx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	res, err := fn(ictx, function, payload)
	if err == nil && res == nil {
		err = errors.New("the invocation returned no result")
	}
	switch {
	case err == nil && res.FunctionError != nil:
		log.WarnContext(ctx, "the function returned an error", "function", function, "errorType", res.FunctionError.Type, "errorMessage", res.FunctionError.Message)
		return response{}, invokeFunctionError
	case err == nil:
		// An answer that came as the time ran out still counts.
	case ctx.Err() != nil:
		log.InfoContext(ctx, "the caller left before the function answered", "function", function)
		return response{}, invokeCanceled
	case ictx.Err() != nil:
		log.WarnContext(ctx, "the function did not answer within the integration timeout", "function", function, "timeout", timeout)
		return response{}, invokeTimedOut
	default:
		log.ErrorContext(ctx, "invoking the function failed", "function", function, "error", err)
		return response{}, invokeFailed
	}
	out, err := readResponse(res.Payload)
	if err != nil {
		log.ErrorContext(ctx, "the function's response cannot be read", "function", function, "error", err)
		return response{}, invokeMalformed
	}
	return out, invokeOK
}
