package apigateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/ratelimit"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// DefaultTimeout is a route's integration timeout when it names none,
// and the most API Gateway allows.
const DefaultTimeout = 30 * time.Second

// HTTPAPIParams configure NewHTTPAPI.
type HTTPAPIParams struct {
	// API is the HTTP API: its routes, authorizers, CORS and throttling.
	// Each route names its own authorizer (stackmodel has resolved the
	// API's DefaultAuthorizer into them; empty or NONE means none). A
	// ThrottlingRateLimit of 0 means no throttling; a ThrottlingBurstLimit
	// below 1 with a rate means 1.
	API stackmodel.HTTPAPI
	// Invoke invokes a route's function; required.
	Invoke InvokeFunc
	// HTTPClient fetches the issuers' OpenID configuration and keys; nil
	// means a client with a 5 s timeout.
	HTTPClient *http.Client
	// AccountID is requestContext.accountId; empty means 123456789012.
	AccountID string
	// Logger receives what API Gateway would log (integration errors,
	// unreachable issuers); nil discards it.
	Logger *slog.Logger
	// Now is the clock of the event's time, of token expiry and of
	// throttling; nil means time.Now.
	Now func() time.Time
	// RequestIDFunc makes each request's id (requestContext.requestId and
	// the apigw-requestid header); nil makes ids shaped as API Gateway's.
	RequestIDFunc func() string
	// JWKSMinRefetch is the least time between two fetches of an issuer's
	// keys (or of its discovery document after a failure); zero means
	// DefaultJWKSMinRefetch.
	JWKSMinRefetch time.Duration
}

// HTTPAPI is an HTTP API of API Gateway, served on this machine: it
// routes requests, authorizes them with the API's JWT authorizers, and
// invokes the routes' functions with payload format 2.0 events. It is an
// http.Handler, safe for concurrent use.
type HTTPAPI struct {
	api         stackmodel.HTTPAPI
	accountID   string
	invoke      InvokeFunc
	log         *slog.Logger
	now         func() time.Time
	requestID   func() string
	routes      []*route
	authorizers map[string]*authorizer
	cors        *cors
	limiter     *ratelimit.Limiter
}

// NewHTTPAPI returns the HTTP API p.API describes. It returns an error
// naming the route or authorizer that cannot be served: a payload format
// other than 2.0, a malformed path, two routes with one key, an authorizer
// without issuer or audience or with an identity source other than one
// header or query parameter, or a route naming an authorizer the API does
// not have.
func NewHTTPAPI(p HTTPAPIParams) (*HTTPAPI, error) {
	if p.Invoke == nil {
		return nil, fmt.Errorf("making HTTP API %s: Invoke is required", p.API.LogicalID)
	}
	a := &HTTPAPI{api: p.API, accountID: p.AccountID, invoke: p.Invoke, log: p.Logger, now: p.Now, requestID: p.RequestIDFunc, authorizers: map[string]*authorizer{}}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("api", p.API.LogicalID)
	if a.now == nil {
		a.now = time.Now
	}
	if a.accountID == "" {
		a.accountID = "123456789012"
	}
	if a.requestID == nil {
		a.requestID = apiRequestID
	}
	client := p.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	minRefetch := p.JWKSMinRefetch
	if minRefetch <= 0 {
		minRefetch = DefaultJWKSMinRefetch
	}
	for name, cfg := range p.API.Authorizers {
		az, err := newAuthorizer(authorizerParams{name: name, cfg: cfg, client: client, now: a.now, minRefetch: minRefetch, log: a.log})
		if err != nil {
			return nil, fmt.Errorf("making HTTP API %s: %w", p.API.LogicalID, err)
		}
		a.authorizers[name] = az
	}
	keys := map[string]bool{}
	for _, r := range p.API.Routes {
		if r.Authorizer == "NONE" {
			r.Authorizer = ""
		}
		rt, err := parseRoute(r)
		if err != nil {
			return nil, fmt.Errorf("making HTTP API %s: %w", p.API.LogicalID, err)
		}
		switch {
		case keys[rt.key]:
			return nil, fmt.Errorf("making HTTP API %s: two routes have the key %s", p.API.LogicalID, rt.key)
		case r.PayloadFormatVersion != "" && r.PayloadFormatVersion != "2.0":
			return nil, fmt.Errorf("making HTTP API %s: route %s has payload format %s; only 2.0 is served here", p.API.LogicalID, rt.key, r.PayloadFormatVersion)
		case r.Authorizer != "" && a.authorizers[r.Authorizer] == nil:
			return nil, fmt.Errorf("making HTTP API %s: route %s names the authorizer %s, which the API does not have", p.API.LogicalID, rt.key, r.Authorizer)
		case r.Function == "":
			return nil, fmt.Errorf("making HTTP API %s: route %s names no function", p.API.LogicalID, rt.key)
		case r.Timeout < 0 || (r.Timeout > 0 && r.Timeout < 50*time.Millisecond) || r.Timeout > DefaultTimeout:
			return nil, fmt.Errorf("making HTTP API %s: route %s: the timeout %s is not between 50 ms and %s", p.API.LogicalID, rt.key, r.Timeout, DefaultTimeout)
		}
		if rt.Timeout == 0 {
			rt.Timeout = DefaultTimeout
		}
		keys[rt.key] = true
		a.routes = append(a.routes, rt)
	}
	if p.API.CORS != nil {
		a.cors = &cors{cfg: *p.API.CORS}
	}
	if p.API.ThrottlingRateLimit > 0 {
		burst := max(p.API.ThrottlingBurstLimit, 1)
		l, err := ratelimit.New(ratelimit.Options{Rate: p.API.ThrottlingRateLimit, Burst: burst, MaxKeys: 1, NowFunc: a.now})
		if err != nil {
			return nil, fmt.Errorf("making HTTP API %s: throttling: %w", p.API.LogicalID, err)
		}
		a.limiter = l
	}
	return a, nil
}

// ServeHTTP answers one request as API Gateway would: 429 over the
// throttling limit, CORS preflight requests by the gateway itself, 404
// for no route, 401 or 403 from the route's authorizer, then the
// function's response, 500 when the function fails or answers something
// that is not a response, and 503 past the route's timeout. Every answer
// carries apigw-requestid.
func (a *HTTPAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := a.now()
	id := a.requestID()
	origin := r.Header.Get("Origin")
	extra := func(h http.Header) {
		h.Set("Apigw-Requestid", id)
		if a.cors != nil {
			a.cors.decorate(h, origin)
		}
	}
	message := func(status int, msg string) {
		extra(w.Header())
		writeMessage(w, status, msg)
	}
	if a.limiter != nil {
		if ok, _ := a.limiter.Allow(""); !ok {
			message(http.StatusTooManyRequests, "Too Many Requests")
			return
		}
	}
	if a.cors != nil && preflight(r) {
		w.Header().Set("Apigw-Requestid", id)
		a.cors.answerPreflight(w, r)
		return
	}
	rt, params := selectRoute(a.routes, r.Method, r.URL.EscapedPath())
	if rt == nil {
		message(http.StatusNotFound, "Not Found")
		return
	}
	log := a.log.With("requestId", id, "routeKey", rt.key)
	var jwtDesc *events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription
	if rt.Authorizer != "" {
		var d *denial
		if jwtDesc, d = a.authorizers[rt.Authorizer].authorize(r, rt.AuthorizationScopes); d != nil {
			w.Header().Set("Www-Authenticate", d.wwwAuthenticate())
			msg := "Unauthorized"
			if d.status == http.StatusForbidden {
				msg = "Forbidden"
			}
			message(d.status, msg)
			return
		}
	}
	ev, err := newEvent(r, now, id)
	if errors.Is(err, errBodyTooLarge) {
		message(http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	if err != nil {
		log.InfoContext(r.Context(), "reading the request", "error", err)
		message(http.StatusBadRequest, "Bad Request")
		return
	}
	ev.RouteKey, ev.RequestContext.RouteKey = rt.key, rt.key
	ev.PathParameters = params
	ev.RequestContext.AccountID, ev.RequestContext.APIID = a.accountID, a.api.ID
	if jwtDesc != nil {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwtDesc}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		log.ErrorContext(r.Context(), "encoding the event", "error", err)
		message(http.StatusInternalServerError, "Internal Server Error")
		return
	}
	res, outcome := invoke(r.Context(), log, a.invoke, rt.Function, payload, rt.Timeout)
	switch outcome {
	case invokeOK:
		res.write(w, extra)
	case invokeTimedOut:
		message(http.StatusServiceUnavailable, "Service Unavailable")
	case invokeCanceled:
		// The caller is gone; nobody reads an answer.
	default:
		message(http.StatusInternalServerError, "Internal Server Error")
	}
}
