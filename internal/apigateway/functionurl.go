package apigateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/stackmodel"
)

// FunctionURLParams configure NewFunctionURL.
type FunctionURLParams struct {
	// URL is the function URL: its target function, auth type and invoke
	// mode.
	URL stackmodel.FunctionURL
	// Invoke invokes the function; required.
	Invoke InvokeFunc
	// Logger receives what Lambda would log (invocation failures); nil
	// discards it.
	Logger *slog.Logger
	// Now is the clock of the event's time; nil means time.Now.
	Now func() time.Time
	// RequestIDFunc makes each request's id; nil makes UUIDs, as Lambda.
	RequestIDFunc func() string
}

// FunctionURL is a Lambda function URL served on this machine: every
// request invokes the function with a payload format 2.0 event and its
// response is read as function URLs read it. It is an http.Handler, safe
// for concurrent use.
type FunctionURL struct {
	u         stackmodel.FunctionURL
	apiID     string
	invoke    InvokeFunc
	log       *slog.Logger
	now       func() time.Time
	requestID func() string
}

// NewFunctionURL returns the function URL p.URL describes. It refuses
// AuthType AWS_IAM (requests would have to be SigV4-signed with
// credentials IAM checks, and there is no IAM here) and InvokeMode
// RESPONSE_STREAM (only buffered responses are served).
func NewFunctionURL(p FunctionURLParams) (*FunctionURL, error) {
	switch {
	case p.Invoke == nil:
		return nil, fmt.Errorf("making function URL %s: Invoke is required", p.URL.LogicalID)
	case p.URL.Function == "":
		return nil, fmt.Errorf("making function URL %s: it names no function", p.URL.LogicalID)
	case p.URL.AuthType == "AWS_IAM":
		return nil, fmt.Errorf("making function URL %s: AuthType AWS_IAM needs SigV4-signed requests checked by IAM, which does not run here; use AuthType NONE and let the function check its callers", p.URL.LogicalID)
	case p.URL.AuthType != "NONE":
		return nil, fmt.Errorf("making function URL %s: AuthType %q is neither NONE nor AWS_IAM", p.URL.LogicalID, p.URL.AuthType)
	case p.URL.InvokeMode == "RESPONSE_STREAM":
		return nil, fmt.Errorf("making function URL %s: InvokeMode RESPONSE_STREAM is not served here; only BUFFERED responses are", p.URL.LogicalID)
	case p.URL.InvokeMode != "" && p.URL.InvokeMode != "BUFFERED":
		return nil, fmt.Errorf("making function URL %s: InvokeMode %q is neither BUFFERED nor RESPONSE_STREAM", p.URL.LogicalID, p.URL.InvokeMode)
	}
	f := &FunctionURL{u: p.URL, apiID: urlID(p.URL), invoke: p.Invoke, log: p.Logger, now: p.Now, requestID: p.RequestIDFunc}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	f.log = f.log.With("functionUrl", p.URL.LogicalID, "function", p.URL.Function)
	if f.now == nil {
		f.now = time.Now
	}
	if f.requestID == nil {
		f.requestID = uuid.NewString
	}
	return f, nil
}

// urlID is the url-id of a function URL (https://<url-id>.lambda-url...),
// or its logical id when its URL has no such label.
func urlID(u stackmodel.FunctionURL) string {
	if pu, err := url.Parse(u.URL); err == nil {
		host := pu.Hostname()
		if label, _, ok := strings.Cut(host, "."); ok && net.ParseIP(host) == nil && label != "" {
			return label
		}
	}
	return strings.ToLower(u.LogicalID)
}

// ServeHTTP invokes the function with the request and answers with its
// response. A function error, an invocation that fails or a response that
// cannot be read is answered 502 Internal Server Error, as function URLs
// do; a body over MaxBodySize 413.
func (f *FunctionURL) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := f.now()
	id := f.requestID()
	w.Header().Set("X-Amzn-Requestid", id)
	ev, err := newEvent(r, now, id)
	if errors.Is(err, errBodyTooLarge) {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if err != nil {
		f.log.InfoContext(r.Context(), "reading the request", "requestId", id, "error", err)
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return
	}
	// A function URL with AuthType NONE: no authorizer, the account
	// anonymous.
	ev.RequestContext.AccountID, ev.RequestContext.APIID = "anonymous", f.apiID
	payload, err := json.Marshal(ev)
	if err != nil {
		f.log.ErrorContext(r.Context(), "encoding the event", "requestId", id, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	res, outcome := invoke(r.Context(), f.log.With("requestId", id), f.invoke, f.u.Function, payload, 0)
	switch outcome {
	case invokeOK:
		res.write(w, func(h http.Header) { h.Set("X-Amzn-Requestid", id) })
	case invokeCanceled:
		// The caller is gone; nobody reads an answer.
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("Internal Server Error"))
	}
}
