package apigateway_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// start is the test clock's start: tokens are issued and checked on it.
var start = time.Date(2026, 12, 6, 5, 30, 0, 0, time.UTC)

// issuerServer serves an Issuer's handler on loopback; which issuer it
// serves can change, as an identity provider rotates its keys.
type issuerServer struct {
	srv     *httptest.Server
	handler atomic.Pointer[http.Handler]
}

func newIssuerServer(t *testing.T) *issuerServer {
	t.Helper()
	s := &issuerServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := s.handler.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// issue makes an issuer at the server's URL (and path) and serves it.
func (s *issuerServer) issue(t *testing.T, path string, now func() time.Time) *apigateway.Issuer {
	t.Helper()
	iss, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: s.srv.URL + path, Now: now})
	require.NoError(t, err)
	h := iss.Handler()
	s.handler.Store(&h)
	return iss
}

// call is one invocation a function received.
type call struct {
	function string
	event    events.APIGatewayV2HTTPRequest
	raw      map[string]any
}

// recorder records invocations and answers them with a handler.
type recorder struct {
	mu     sync.Mutex
	calls  []call
	answer apigateway.InvokeFunc
}

func (r *recorder) invoke(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
	var c call
	c.function = function
	if err := json.Unmarshal(payload, &c.event); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(payload, &c.raw); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	return r.answer(ctx, function, payload)
}

func (r *recorder) last(t *testing.T) call {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.calls, "the function was not invoked")
	return r.calls[len(r.calls)-1]
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// answerWith returns a function that answers every invocation with
// payload.
func answerWith(payload string) apigateway.InvokeFunc {
	return func(context.Context, string, []byte) (*lambdaemu.Result, error) {
		return &lambdaemu.Result{Payload: []byte(payload)}, nil
	}
}

// seen is what the echo function's HTTP handler saw of its request.
type seen struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Query   string      `json:"query"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
	Subject string      `json:"subject"`
	Roles   []auth.Role `json:"roles"`
	AuthErr string      `json:"authErr"`
	Claims  bool        `json:"claims"`
}

// echoFunction is a Go Lambda handler run in process as functions/api
// runs: an http.Handler behind aws-lambda-go-api-proxy's V2 adapter, which
// reads the caller's Principal from the authorizer's claims with
// auth.AuthorizerClaims, as the API function does.
func echoFunction(issuer string, audience []string) apigateway.InvokeFunc {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header, Body: string(body)}
		_, s.Claims = core.GetAPIGatewayV2ContextFromContext(r.Context())
		p, err := auth.AuthorizerClaims{Issuer: issuer, Audience: audience}.Authenticate(r)
		if err != nil {
			s.AuthErr = err.Error()
		}
		s.Subject, s.Roles = p.Subject, p.Roles
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "yes")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "abc"})
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(s)
	})
	adapter := httpadapter.NewV2(h)
	return func(ctx context.Context, _ string, payload []byte) (*lambdaemu.Result, error) {
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, err
		}
		resp, err := adapter.ProxyWithContext(ctx, ev)
		if err != nil {
			body, _ := json.Marshal(map[string]string{"errorType": "errorString", "errorMessage": err.Error()})
			return &lambdaemu.Result{Payload: body, FunctionError: &lambdaemu.FunctionError{Type: "errorString", Message: err.Error()}}, nil
		}
		out, err := json.Marshal(resp)
		return &lambdaemu.Result{Payload: out}, err
	}
}

// testBundle is a gateway on loopback, with an issuer and a clock.
type testBundle struct {
	clock  *clocktest.Manual
	issuer *apigateway.Issuer
	iss    *issuerServer
	fn     *recorder
	gw     *httptest.Server
	api    stackmodel.HTTPAPI
}

const audience = "aiflow-api"

// setup serves api (its authorizer, if it names "JwtAuthorizer" with no
// issuer, pointed at a local issuer) with answer as every function.
func setup(t *testing.T, api stackmodel.HTTPAPI, answer func(b *testBundle) apigateway.InvokeFunc) *testBundle {
	t.Helper()
	b := &testBundle{clock: clocktest.NewManual(start), iss: newIssuerServer(t)}
	b.issuer = b.iss.issue(t, "/pool", b.clock.Now)
	if az, ok := api.Authorizers["JwtAuthorizer"]; ok && az.Issuer == "" {
		az.Issuer = b.issuer.URL()
		api.Authorizers = map[string]stackmodel.JWTAuthorizer{"JwtAuthorizer": az}
	}
	if api.ID == "" {
		api.ID = "a1b2c3d4e5"
	}
	b.api = api
	b.fn = &recorder{answer: answer(b)}
	gw, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{
		API: api, Invoke: b.fn.invoke, AccountID: "111122223333", Now: b.clock.Now,
	})
	require.NoError(t, err)
	b.gw = httptest.NewServer(gw)
	t.Cleanup(b.gw.Close)
	return b
}

// do sends a request and returns the response and its body.
func (b *testBundle) do(t *testing.T, method, path string, body io.Reader, header http.Header) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, b.gw.URL+path, body)
	require.NoError(t, err)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := b.gw.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

func (b *testBundle) token(t *testing.T, p apigateway.TokenParams) string {
	t.Helper()
	if p.Subject == "" {
		p.Subject = "alice"
	}
	if p.Audience == nil {
		p.Audience = []string{audience}
	}
	tok, err := b.issuer.Token(p)
	require.NoError(t, err)
	return tok
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

// jwtAPI is the template's API: a JWT authorizer by default, a greedy
// route for the API function and public health checks.
func jwtAPI() stackmodel.HTTPAPI {
	return stackmodel.HTTPAPI{
		LogicalID:         "HttpApi",
		DefaultAuthorizer: "JwtAuthorizer",
		Authorizers: map[string]stackmodel.JWTAuthorizer{"JwtAuthorizer": {
			IdentitySource: "$request.header.Authorization", Audience: []string{"other", audience},
		}},
		Routes: []stackmodel.HTTPRoute{
			{Event: "Everything", Function: "ApiFunction", Method: "ANY", Path: "/{proxy+}", Authorizer: "JwtAuthorizer", PayloadFormatVersion: "2.0"},
			{Event: "Healthz", Function: "ApiFunction", Method: "GET", Path: "/healthz", PayloadFormatVersion: "2.0"},
			{Event: "Admin", Function: "ApiFunction", Method: "POST", Path: "/admin/{action}", Authorizer: "JwtAuthorizer", AuthorizationScopes: []string{"aiflow/admin", "aiflow/root"}},
		},
	}
}

func TestTheEventCarriesTheRequestAsAPIGatewaySendsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, jwtAPI(), func(b *testBundle) apigateway.InvokeFunc {
		return echoFunction(b.issuer.URL(), []string{audience})
	})
	tok := b.token(t, apigateway.TokenParams{Roles: []string{"author", "viewer"}, Scopes: []string{"aiflow/read", "openid"},
		Claims: map[string]any{"email_verified": true, "org": map[string]any{"name": "acme", "id": 7}}})
	h := bearer(tok)
	h.Add("X-Dup", "one")
	h.Add("X-Dup", "two")
	h.Add("Cookie", "a=1; b=2")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "gateway-test/1")
	resp, body := b.do(t, http.MethodPost, "/v1/items/it%20em?b=2&a=1&a=3&e=%C3%A9", strings.NewReader(`{"x":1}`), h)
	require.Equal(t, http.StatusCreated, resp.StatusCode, body)

	// What the function's HTTP handler saw, through the same adapter as
	// functions/api.
	var s seen
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.Equal(t, http.MethodPost, s.Method)
	require.Equal(t, "/v1/items/it em", s.Path)
	require.Equal(t, `{"x":1}`, s.Body)
	require.Empty(t, s.AuthErr)
	require.Equal(t, "alice", s.Subject)
	require.Equal(t, []auth.Role{auth.RoleViewer, auth.RoleAuthor}, s.Roles, "the roles auth reads from the claims as API Gateway renders them")

	// The event itself.
	c := b.fn.last(t)
	ev := c.event
	require.Equal(t, "ApiFunction", c.function)
	require.Equal(t, "2.0", ev.Version)
	require.Equal(t, "ANY /{proxy+}", ev.RouteKey)
	require.Equal(t, "/v1/items/it%20em", ev.RawPath)
	require.Equal(t, "b=2&a=1&a=3&e=%C3%A9", ev.RawQueryString)
	require.Equal(t, []string{"a=1", "b=2"}, ev.Cookies)
	require.Equal(t, map[string]string{"a": "1,3", "b": "2", "e": "é"}, ev.QueryStringParameters)
	require.Equal(t, map[string]string{"proxy": "v1/items/it em"}, ev.PathParameters)
	require.Equal(t, "one,two", ev.Headers["x-dup"])
	require.Equal(t, "application/json", ev.Headers["content-type"])
	require.Equal(t, "127.0.0.1", ev.Headers["x-forwarded-for"])
	require.Equal(t, "http", ev.Headers["x-forwarded-proto"])
	require.Contains(t, ev.Headers["x-amzn-trace-id"], "Root=1-")
	require.NotContains(t, ev.Headers, "cookie")
	for k := range ev.Headers {
		require.Equal(t, strings.ToLower(k), k)
	}
	require.Equal(t, `{"x":1}`, ev.Body)
	require.False(t, ev.IsBase64Encoded)
	rc := ev.RequestContext
	require.Equal(t, "111122223333", rc.AccountID)
	require.Equal(t, "a1b2c3d4e5", rc.APIID)
	require.Equal(t, "127.0.0.1", rc.DomainName)
	require.Equal(t, "127", rc.DomainPrefix)
	require.Equal(t, "$default", rc.Stage)
	require.Equal(t, "ANY /{proxy+}", rc.RouteKey)
	require.Equal(t, "06/Dec/2026:05:30:00 +0000", rc.Time)
	require.Equal(t, start.UnixMilli(), rc.TimeEpoch)
	require.Equal(t, events.APIGatewayV2HTTPRequestContextHTTPDescription{
		Method: "POST", Path: "/v1/items/it em", Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "gateway-test/1",
	}, rc.HTTP)
	require.Equal(t, resp.Header.Get("apigw-requestid"), rc.RequestID)
	require.Len(t, rc.RequestID, 16)
	require.NotContains(t, c.raw["requestContext"], "authentication", "no mutual TLS, no authentication block")

	claims := rc.Authorizer.JWT.Claims
	require.Equal(t, "alice", claims["sub"])
	require.Equal(t, b.issuer.URL(), claims["iss"])
	require.Equal(t, audience, claims["aud"])
	require.Equal(t, "[author viewer]", claims["roles"])
	require.Equal(t, "aiflow/read openid", claims["scope"])
	require.Equal(t, fmt.Sprint(start.Add(time.Hour).Unix()), claims["exp"])
	require.Equal(t, "true", claims["email_verified"])
	require.Equal(t, "map[id:7 name:acme]", claims["org"])
	require.Nil(t, rc.Authorizer.JWT.Scopes, "scopes are given on routes that require them")

	// The function's response: status, headers, cookies.
	require.Equal(t, "yes", resp.Header.Get("X-Echo"))
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.Equal(t, []string{"session=abc"}, resp.Header.Values("Set-Cookie"))
}

func TestRoutesAreSelectedByPrecedence(t *testing.T) {
	t.Parallel()
	api := stackmodel.HTTPAPI{LogicalID: "Api", Routes: []stackmodel.HTTPRoute{
		{Function: "exact", Method: "GET", Path: "/pets/dog/1"},
		{Function: "param", Method: "GET", Path: "/pets/dog/{id}"},
		{Function: "petsGreedy", Method: "GET", Path: "/pets/{proxy+}"},
		{Function: "anyGreedy", Method: "ANY", Path: "/{proxy+}"},
		{Function: "getPets", Method: "GET", Path: "/pets"},
		{Function: "anyPets", Method: "ANY", Path: "/pets"},
		{Function: "owner", Method: "GET", Path: "/owners/{owner}/pets/{pet}"},
		{Function: "fallback", Method: "ANY", Path: "$default"},
	}}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	for _, tc := range []struct {
		method, path string
		function     string
		key          string
		params       map[string]string
	}{
		{"GET", "/pets/dog/1", "exact", "GET /pets/dog/1", nil},
		{"GET", "/pets/dog/2", "param", "GET /pets/dog/{id}", map[string]string{"id": "2"}},
		{"GET", "/pets/cat/1", "petsGreedy", "GET /pets/{proxy+}", map[string]string{"proxy": "cat/1"}},
		{"POST", "/pets/dog/1", "anyGreedy", "ANY /{proxy+}", map[string]string{"proxy": "pets/dog/1"}},
		{"GET", "/pets", "getPets", "GET /pets", nil},
		{"DELETE", "/pets", "anyPets", "ANY /pets", nil},
		{"GET", "/owners/ann/pets/rex", "owner", "GET /owners/{owner}/pets/{pet}", map[string]string{"owner": "ann", "pet": "rex"}},
		{"GET", "/owners/ann/pets", "anyGreedy", "ANY /{proxy+}", map[string]string{"proxy": "owners/ann/pets"}},
		{"GET", "/", "fallback", "$default", nil},
	} {
		resp, body := b.do(t, tc.method, tc.path, nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
		c := b.fn.last(t)
		require.Equal(t, tc.function, c.function, "%s %s", tc.method, tc.path)
		require.Equal(t, tc.key, c.event.RouteKey, "%s %s", tc.method, tc.path)
		require.Equal(t, tc.params, c.event.PathParameters, "%s %s", tc.method, tc.path)
	}

	t.Run("no route", func(t *testing.T) {
		t.Parallel()
		b := setup(t, stackmodel.HTTPAPI{LogicalID: "Api", Routes: []stackmodel.HTTPRoute{
			{Function: "f", Method: "GET", Path: "/pets"},
			{Function: "f", Method: "GET", Path: "/files/{proxy+}"},
		}}, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{}`) })
		for _, p := range []struct{ method, path string }{{"POST", "/pets"}, {"GET", "/"}, {"GET", "/files"}, {"GET", "/pets/1"}} {
			resp, body := b.do(t, p.method, p.path, nil, nil)
			require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
			require.JSONEq(t, `{"message":"Not Found"}`, body)
			require.NotEmpty(t, resp.Header.Get("apigw-requestid"))
		}
		require.Zero(t, b.fn.count())
	})
}

func TestResponsesAreReadAsFormat20(t *testing.T) {
	t.Parallel()
	api := stackmodel.HTTPAPI{LogicalID: "Api", Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "ANY", Path: "$default"}}}
	for _, tc := range []struct {
		name    string
		payload string
		status  int
		body    string
		header  map[string]string
		cookies []string
	}{
		{name: "an object without statusCode", payload: `{"message":"hi"}`, status: 200, body: `{"message":"hi"}`, header: map[string]string{"Content-Type": "application/json"}},
		{name: "a string", payload: `"Hello from Lambda!"`, status: 200, body: `"Hello from Lambda!"`, header: map[string]string{"Content-Type": "application/json"}},
		{name: "a full response", payload: `{"statusCode":418,"headers":{"content-type":"text/plain","x-a":"b"},"cookies":["c=1; Path=/","d=2"],"body":"teapot"}`,
			status: 418, body: "teapot", header: map[string]string{"Content-Type": "text/plain", "X-A": "b"}, cookies: []string{"c=1; Path=/", "d=2"}},
		{name: "a base64 body", payload: `{"statusCode":200,"headers":{"content-type":"application/octet-stream"},"body":"AAEC/w==","isBase64Encoded":true}`,
			status: 200, body: "\x00\x01\x02\xff", header: map[string]string{"Content-Type": "application/octet-stream"}},
		{name: "no body", payload: `{"statusCode":204}`, status: 204, body: "", header: map[string]string{"Content-Type": ""}},
		{name: "not JSON", payload: `not json`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "a bad status", payload: `{"statusCode":"200"}`, status: 500, body: `{"message":"Internal Server Error"}`},
		{name: "a body that is not base64", payload: `{"statusCode":200,"body":"!!","isBase64Encoded":true}`, status: 500, body: `{"message":"Internal Server Error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(tc.payload) })
			resp, body := b.do(t, http.MethodGet, "/x", nil, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.Equal(t, tc.body, body)
			for k, v := range tc.header {
				require.Equal(t, v, resp.Header.Get(k), k)
			}
			require.Equal(t, tc.cookies, resp.Header.Values("Set-Cookie"))
			require.NotEmpty(t, resp.Header.Get("apigw-requestid"))
		})
	}
}

func TestBinaryRequestBodiesAreBase64Encoded(t *testing.T) {
	t.Parallel()
	api := stackmodel.HTTPAPI{LogicalID: "Api", Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "ANY", Path: "$default"}}}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	for _, tc := range []struct {
		contentType string
		body        string
		b64         bool
	}{
		{"text/plain; charset=utf-8", "hello", false},
		{"application/json", `{"a":1}`, false},
		{"application/problem+json", `{"a":1}`, true},
		{"application/xml", "<a/>", false},
		{"application/javascript", "f()", false},
		{"TEXT/HTML; charset=utf-8", "<p>", false},
		{"text/plain; charset=latin1", "caf\xe9", true},
		{"application/octet-stream", "\x00\x01\xfe\xff", true},
		{"image/png", "\x89PNG", true},
		{"application/x-www-form-urlencoded", "a=1&b=2", true},
		{"", "raw", true},
	} {
		h := http.Header{}
		if tc.contentType != "" {
			h.Set("Content-Type", tc.contentType)
		}
		resp, _ := b.do(t, http.MethodPost, "/upload", strings.NewReader(tc.body), h)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ev := b.fn.last(t).event
		require.Equal(t, tc.b64, ev.IsBase64Encoded, tc.contentType)
		if tc.b64 {
			require.Equal(t, base64.StdEncoding.EncodeToString([]byte(tc.body)), ev.Body, tc.contentType)
		} else {
			require.Equal(t, tc.body, ev.Body, tc.contentType)
		}
	}
}

func TestJWTAuthorizer(t *testing.T) {
	t.Parallel()
	b := setup(t, jwtAPI(), func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200,"body":"ok"}`) })
	good := b.token(t, apigateway.TokenParams{Roles: []string{"viewer"}})

	other := newIssuerServer(t)
	stranger := other.issue(t, "", b.clock.Now)
	strangerTok, err := stranger.Token(apigateway.TokenParams{Subject: "mallory", Audience: []string{audience}})
	require.NoError(t, err)

	hs256, err := auth.MintDevToken([]byte(strings.Repeat("k", 32)), "alice", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)

	for _, tc := range []struct {
		name    string
		header  http.Header
		status  int
		wwwAuth string
	}{
		{"a good token", bearer(good), 200, ""},
		{"a good token without Bearer", http.Header{"Authorization": {good}}, 200, ""},
		{"no token", nil, 401, "Bearer"},
		{"garbage", bearer("not.a.token"), 401, `Bearer scope="" error="invalid_token" error_description="the token is malformed"`},
		{"another issuer's token", bearer(strangerTok), 401, "invalid_token"},
		{"the wrong audience", bearer(b.token(t, apigateway.TokenParams{Audience: []string{"someone-else"}})), 401,
			`Bearer scope="" error="invalid_token" error_description="the token does not have a valid audience"`},
		{"one of several audiences", bearer(b.token(t, apigateway.TokenParams{Audience: []string{"x", "other"}})), 200, ""},
		{"client_id instead of aud", bearer(b.token(t, apigateway.TokenParams{Audience: []string{"ignored"}, Claims: map[string]any{"client_id": audience}})), 401, "valid audience"},
		{"an HS256 token", bearer(hs256), 401, "invalid_token"},
	} {
		resp, body := b.do(t, http.MethodGet, "/v1/workflows", nil, tc.header)
		require.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, body)
		if tc.status == 401 {
			require.JSONEq(t, `{"message":"Unauthorized"}`, body, tc.name)
			require.Contains(t, resp.Header.Get("www-authenticate"), tc.wwwAuth, tc.name)
		}
	}
	require.Equal(t, 3, b.fn.count(), "refused requests invoke nothing")

	// The subtests share the bundle's clock and its count of invocations,
	// so they run one after the other.
	t.Run("routes with no authorizer skip it", func(t *testing.T) {
		resp, _ := b.do(t, http.MethodGet, "/healthz", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Nil(t, b.fn.last(t).event.RequestContext.Authorizer)
	})

	t.Run("scopes", func(t *testing.T) {
		resp, body := b.do(t, http.MethodPost, "/admin/purge", nil, bearer(good))
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		require.JSONEq(t, `{"message":"Forbidden"}`, body)
		require.Contains(t, resp.Header.Get("www-authenticate"), `scope="aiflow/admin aiflow/root" error="insufficient_scope"`)

		scoped := b.token(t, apigateway.TokenParams{Scopes: []string{"openid", "aiflow/root"}})
		resp, body = b.do(t, http.MethodPost, "/admin/purge", nil, bearer(scoped))
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		require.Equal(t, []string{"openid", "aiflow/root"}, b.fn.last(t).event.RequestContext.Authorizer.JWT.Scopes)

		scp := b.token(t, apigateway.TokenParams{Claims: map[string]any{"scp": []string{"aiflow/admin"}}})
		resp, _ = b.do(t, http.MethodPost, "/admin/purge", nil, bearer(scp))
		require.Equal(t, http.StatusOK, resp.StatusCode)
	})

	t.Run("expiry and not before", func(t *testing.T) {
		short := b.token(t, apigateway.TokenParams{TTL: time.Minute})
		b.clock.Advance(2 * time.Minute)
		defer b.clock.Advance(-2 * time.Minute)
		resp, _ := b.do(t, http.MethodGet, "/v1/x", nil, bearer(short))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("www-authenticate"), `error_description="the token has expired"`)

		future := b.token(t, apigateway.TokenParams{})
		b.clock.Advance(-4 * time.Minute)
		defer b.clock.Advance(4 * time.Minute)
		resp, _ = b.do(t, http.MethodGet, "/v1/x", nil, bearer(future))
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Contains(t, resp.Header.Get("www-authenticate"), "not valid yet")
	})
}

func TestClientIDIsReadWhenTheTokenHasNoAudience(t *testing.T) {
	t.Parallel()
	b := setup(t, jwtAPI(), func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	// A Cognito access token: no aud, a client_id.
	tok := b.token(t, apigateway.TokenParams{Audience: []string{}, Claims: map[string]any{"client_id": audience, "token_use": "access"}})
	resp, body := b.do(t, http.MethodGet, "/v1/x", nil, bearer(tok))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, audience, b.fn.last(t).event.RequestContext.Authorizer.JWT.Claims["client_id"])
}

func TestAnUnknownKeyIDFetchesTheKeysAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, jwtAPI(), func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	resp, _ := b.do(t, http.MethodGet, "/v1/x", nil, bearer(b.token(t, apigateway.TokenParams{})))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// The identity provider rotates to a new key at the same issuer.
	rotated := b.iss.issue(t, "/pool", b.clock.Now)
	require.NotEqual(t, b.issuer.KeyID(), rotated.KeyID())
	tok, err := rotated.Token(apigateway.TokenParams{Subject: "alice", Audience: []string{audience}})
	require.NoError(t, err)

	// The keys were fetched a moment ago: not again yet, however many
	// tokens name unknown keys.
	resp, _ = b.do(t, http.MethodGet, "/v1/x", nil, bearer(tok))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("www-authenticate"), "not one of the issuer's keys")

	b.clock.Advance(apigateway.DefaultJWKSMinRefetch)
	resp, body := b.do(t, http.MethodGet, "/v1/x", nil, bearer(tok))
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

func TestAnUnreachableIssuerRefusesTokens(t *testing.T) {
	t.Parallel()
	api := jwtAPI()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	api.Authorizers = map[string]stackmodel.JWTAuthorizer{"JwtAuthorizer": {Issuer: dead.URL, Audience: []string{audience}}}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	resp, _ := b.do(t, http.MethodGet, "/v1/x", nil, bearer(b.token(t, apigateway.TokenParams{})))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, resp.Header.Get("www-authenticate"), "unable to fetch the issuer's signing keys")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	api := jwtAPI()
	api.CORS = &stackmodel.CORS{
		AllowOrigins: []string{"https://console.example.com", "https://*.preview.example.com"},
		AllowMethods: []string{"GET", "POST"}, AllowHeaders: []string{"authorization", "content-type"},
		ExposeHeaders: []string{"x-request-id"}, AllowCredentials: true, MaxAge: 10 * time.Minute,
	}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc {
		return answerWith(`{"statusCode":200,"headers":{"access-control-allow-origin":"*","x-request-id":"r1"}}`)
	})

	pre := http.Header{"Origin": {"https://console.example.com"}, "Access-Control-Request-Method": {"POST"}}
	resp, _ := b.do(t, http.MethodOptions, "/v1/workflows", nil, pre)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "answered by the gateway, without a token")
	require.Equal(t, "https://console.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "GET,POST", resp.Header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "authorization,content-type", resp.Header.Get("Access-Control-Allow-Headers"))
	require.Equal(t, "600", resp.Header.Get("Access-Control-Max-Age"))
	require.Equal(t, "true", resp.Header.Get("Access-Control-Allow-Credentials"))

	pre.Set("Origin", "https://pr-7.preview.example.com")
	resp, _ = b.do(t, http.MethodOptions, "/anything", nil, pre)
	require.Equal(t, "https://pr-7.preview.example.com", resp.Header.Get("Access-Control-Allow-Origin"))

	pre.Set("Origin", "https://evil.example.net")
	resp, _ = b.do(t, http.MethodOptions, "/v1/workflows", nil, pre)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	require.Zero(t, b.fn.count(), "preflight requests invoke nothing")

	h := bearer(b.token(t, apigateway.TokenParams{}))
	h.Set("Origin", "https://console.example.com")
	resp, _ = b.do(t, http.MethodGet, "/v1/workflows", nil, h)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "https://console.example.com", resp.Header.Get("Access-Control-Allow-Origin"), "the API's CORS headers replace the function's")
	require.Equal(t, "x-request-id", resp.Header.Get("Access-Control-Expose-Headers"))
	require.Equal(t, "r1", resp.Header.Get("X-Request-Id"))

	h.Set("Origin", "https://evil.example.net")
	resp, _ = b.do(t, http.MethodGet, "/v1/workflows", nil, h)
	require.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
}

func TestFunctionFailures(t *testing.T) {
	t.Parallel()
	api := stackmodel.HTTPAPI{LogicalID: "Api", Routes: []stackmodel.HTTPRoute{
		{Function: "f", Method: "ANY", Path: "$default", Timeout: 100 * time.Millisecond},
	}}
	for _, tc := range []struct {
		name   string
		answer apigateway.InvokeFunc
		status int
		body   string
	}{
		{"a function error", func(context.Context, string, []byte) (*lambdaemu.Result, error) {
			return &lambdaemu.Result{Payload: []byte(`{"errorType":"TicketError","errorMessage":"no"}`), FunctionError: &lambdaemu.FunctionError{Type: "TicketError", Message: "no"}}, nil
		}, 500, `{"message":"Internal Server Error"}`},
		{"a dead instance", func(context.Context, string, []byte) (*lambdaemu.Result, error) {
			return nil, fmt.Errorf("invoking function f: %w", lambdaemu.ErrDead)
		}, 500, `{"message":"Internal Server Error"}`},
		{"the integration timeout", func(ctx context.Context, _ string, _ []byte) (*lambdaemu.Result, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, 503, `{"message":"Service Unavailable"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return tc.answer })
			resp, body := b.do(t, http.MethodGet, "/", nil, nil)
			require.Equal(t, tc.status, resp.StatusCode)
			require.JSONEq(t, tc.body, body)
			require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		})
	}
}

func TestThrottling(t *testing.T) {
	t.Parallel()
	api := stackmodel.HTTPAPI{LogicalID: "Api", ThrottlingRateLimit: 2, ThrottlingBurstLimit: 3,
		Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "ANY", Path: "$default"}}}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	for range 3 {
		resp, _ := b.do(t, http.MethodGet, "/", nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, body := b.do(t, http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.JSONEq(t, `{"message":"Too Many Requests"}`, body)
	require.Equal(t, 3, b.fn.count())

	b.clock.Advance(500 * time.Millisecond)
	resp, _ = b.do(t, http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "one token at 2 per second")
	resp, _ = b.do(t, http.MethodGet, "/", nil, nil)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
}

func TestNewHTTPAPIRefusesWhatItCannotServe(t *testing.T) {
	t.Parallel()
	invoke := answerWith(`{}`)
	for _, tc := range []struct {
		name string
		api  stackmodel.HTTPAPI
		want string
	}{
		{"payload format 1.0", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/a", PayloadFormatVersion: "1.0"}}}, "payload format 1.0"},
		{"two routes with one key", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/a"}, {Function: "g", Method: "GET", Path: "/a"}}}, "two routes have the key GET /a"},
		{"a greedy variable in the middle", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/{proxy+}/a"}}}, "is not the last segment"},
		{"a mixed segment", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/a{b}"}}}, "mixes text and a variable"},
		{"an unknown authorizer", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/a", Authorizer: "Nope"}}}, "names the authorizer Nope"},
		{"an authorizer without audience", stackmodel.HTTPAPI{Authorizers: map[string]stackmodel.JWTAuthorizer{"A": {Issuer: "https://issuer.example.com"}}}, "authorizer A has no audience"},
		{"a context identity source", stackmodel.HTTPAPI{Authorizers: map[string]stackmodel.JWTAuthorizer{"A": {Issuer: "https://issuer.example.com", Audience: []string{"x"}, IdentitySource: "$context.identity.sourceIp"}}}, "identity source"},
		{"a timeout over 30 s", stackmodel.HTTPAPI{Routes: []stackmodel.HTTPRoute{{Function: "f", Method: "GET", Path: "/a", Timeout: time.Minute}}}, "timeout 1m0s"},
	} {
		_, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{API: tc.api, Invoke: invoke})
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	_, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{})
	require.ErrorContains(t, err, "Invoke is required")
}

func TestAQueryStringIdentitySource(t *testing.T) {
	t.Parallel()
	api := jwtAPI()
	api.Authorizers = map[string]stackmodel.JWTAuthorizer{"JwtAuthorizer": {IdentitySource: "$request.querystring.access_token", Audience: []string{audience}}}
	b := setup(t, api, func(*testBundle) apigateway.InvokeFunc { return answerWith(`{"statusCode":200}`) })
	resp, _ := b.do(t, http.MethodGet, "/v1/x?access_token="+b.token(t, apigateway.TokenParams{}), nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = b.do(t, http.MethodGet, "/v1/x", nil, bearer(b.token(t, apigateway.TokenParams{})))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the header is not the identity source")
	require.Equal(t, "Bearer", resp.Header.Get("www-authenticate"))
}
