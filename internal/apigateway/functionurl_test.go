package apigateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

func serveFunctionURL(t *testing.T, answer apigateway.InvokeFunc) (*httptest.Server, *[]events.LambdaFunctionURLRequest, *clocktest.Manual) {
	t.Helper()
	clock := clocktest.NewManual(start)
	var got []events.LambdaFunctionURLRequest
	f, err := apigateway.NewFunctionURL(apigateway.FunctionURLParams{
		URL: stackmodel.FunctionURL{LogicalID: "McpServerUrl", Function: "McpServerFunction", URL: "https://abcdefghij.lambda-url.us-east-1.on.aws/", AuthType: "NONE", InvokeMode: "BUFFERED"},
		Invoke: func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
			if function != "McpServerFunction" {
				return nil, io.ErrUnexpectedEOF
			}
			var ev events.LambdaFunctionURLRequest
			if err := json.Unmarshal(payload, &ev); err != nil {
				return nil, err
			}
			var raw map[string]any
			if err := json.Unmarshal(payload, &raw); err != nil {
				return nil, err
			}
			// The fields aws-lambda-go's type does not hold.
			ev.RequestContext.Authorizer = nil
			if raw["routeKey"] != "$default" || raw["requestContext"].(map[string]any)["stage"] != "$default" {
				return nil, io.ErrUnexpectedEOF
			}
			got = append(got, ev)
			return answer(ctx, function, payload)
		},
		Now: clock.Now,
	})
	require.NoError(t, err)
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv, &got, clock
}

func get(t *testing.T, srv *httptest.Server, method, path, body string, header http.Header) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(raw)
}

func TestFunctionURLSendsTheEventFunctionURLsSend(t *testing.T) {
	t.Parallel()
	srv, got, _ := serveFunctionURL(t, answerWith(`{"statusCode":202,"headers":{"content-type":"application/json"},"body":"{\"ok\":true}","cookies":["s=1"]}`))
	resp, body := get(t, srv, http.MethodPost, "/mcp?x=1&x=2", `{"jsonrpc":"2.0"}`, http.Header{
		"Content-Type": {"application/json"}, "Cookie": {"k=v"}, "Authorization": {"Bearer abc"},
	})
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.JSONEq(t, `{"ok":true}`, body)
	require.Equal(t, []string{"s=1"}, resp.Header.Values("Set-Cookie"))
	require.NotEmpty(t, resp.Header.Get("X-Amzn-Requestid"))

	require.Len(t, *got, 1)
	ev := (*got)[0]
	require.Equal(t, "2.0", ev.Version)
	require.Equal(t, "/mcp", ev.RawPath)
	require.Equal(t, "x=1&x=2", ev.RawQueryString)
	require.Equal(t, map[string]string{"x": "1,2"}, ev.QueryStringParameters)
	require.Equal(t, []string{"k=v"}, ev.Cookies)
	require.Equal(t, "Bearer abc", ev.Headers["authorization"], "the function checks its callers itself")
	require.Equal(t, `{"jsonrpc":"2.0"}`, ev.Body)
	require.False(t, ev.IsBase64Encoded)
	rc := ev.RequestContext
	require.Equal(t, "anonymous", rc.AccountID)
	require.Equal(t, "abcdefghij", rc.APIID)
	require.Equal(t, resp.Header.Get("X-Amzn-Requestid"), rc.RequestID)
	require.Equal(t, "POST", rc.HTTP.Method)
	require.Equal(t, "/mcp", rc.HTTP.Path)
	require.Equal(t, "127.0.0.1", rc.HTTP.SourceIP)
	require.Equal(t, start.UnixMilli(), rc.TimeEpoch)
}

func TestFunctionURLAnswersFailuresWith502(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]apigateway.InvokeFunc{
		"a function error": func(context.Context, string, []byte) (*lambdaemu.Result, error) {
			return &lambdaemu.Result{Payload: []byte(`{"errorType":"E","errorMessage":"m"}`), FunctionError: &lambdaemu.FunctionError{Type: "E", Message: "m"}}, nil
		},
		"a dead instance": func(context.Context, string, []byte) (*lambdaemu.Result, error) { return nil, lambdaemu.ErrDead },
		"not JSON":        answerWith("{"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, _, _ := serveFunctionURL(t, answer)
			resp, body := get(t, srv, http.MethodGet, "/", "", nil)
			require.Equal(t, http.StatusBadGateway, resp.StatusCode)
			require.Equal(t, "Internal Server Error", body)
		})
	}
}

func TestNewFunctionURLRefusesWhatItCannotServe(t *testing.T) {
	t.Parallel()
	invoke := answerWith(`{}`)
	for want, u := range map[string]stackmodel.FunctionURL{
		"AuthType AWS_IAM needs SigV4":             {LogicalID: "U", Function: "F", AuthType: "AWS_IAM"},
		"InvokeMode RESPONSE_STREAM is not served": {LogicalID: "U", Function: "F", AuthType: "NONE", InvokeMode: "RESPONSE_STREAM"},
		"names no function":                        {LogicalID: "U", AuthType: "NONE"},
	} {
		_, err := apigateway.NewFunctionURL(apigateway.FunctionURLParams{URL: u, Invoke: invoke})
		require.ErrorContains(t, err, want)
	}
}

func TestIssuerKeepsItsKeyInItsFile(t *testing.T) {
	t.Parallel()
	iss := newIssuerServer(t)
	keyFile := filepath.Join(t.TempDir(), "stack", "issuer.pem")
	first, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: iss.srv.URL, KeyFile: keyFile})
	require.NoError(t, err)
	fi, err := os.Stat(keyFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	second, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: iss.srv.URL + "/", KeyFile: keyFile})
	require.NoError(t, err)
	require.Equal(t, first.KeyID(), second.KeyID(), "a restart keeps the key, and the tokens")
	require.Equal(t, iss.srv.URL, second.URL())
	h := second.Handler()
	iss.handler.Store(&h)

	// The discovery document and the key set, as an OpenID provider
	// publishes them.
	resp, body := get(t, iss.srv, http.MethodGet, "/.well-known/openid-configuration", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.Equal(t, iss.srv.URL, doc["issuer"])
	require.Equal(t, first.JWKSURL(), doc["jwks_uri"])

	// A token of the first issuer verifies with auth's own verifier
	// reading the second one's key set.
	tok, err := first.Token(apigateway.TokenParams{Subject: "bob", Audience: []string{"aiflow"}, Roles: []string{"operator"}})
	require.NoError(t, err)
	v, err := auth.NewVerifier(auth.VerifierOptions{Issuer: iss.srv.URL, Audience: []string{"aiflow"}, JWKSURL: first.JWKSURL(), HTTPClient: iss.srv.Client()})
	require.NoError(t, err)
	p, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, "bob", p.Subject)
	require.Equal(t, []auth.Role{auth.RoleOperator}, p.Roles)

	require.NoError(t, os.WriteFile(keyFile, []byte("not a key"), 0o600))
	_, err = apigateway.NewIssuer(apigateway.IssuerParams{URL: iss.srv.URL, KeyFile: keyFile})
	require.ErrorContains(t, err, "holds no PEM block")
}

func TestIssuerRefusesBadParams(t *testing.T) {
	t.Parallel()
	_, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: "ftp://x"})
	require.ErrorContains(t, err, "not an http(s) URL")

	iss, err := apigateway.NewIssuer(apigateway.IssuerParams{URL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	for want, p := range map[string]apigateway.TokenParams{
		"the subject is empty":        {Audience: []string{"a"}},
		"the audience is empty":       {Subject: "s"},
		"the claim exp is the issuer": {Subject: "s", Audience: []string{"a"}, Claims: map[string]any{"exp": 1}},
		"is negative":                 {Subject: "s", Audience: []string{"a"}, TTL: -time.Second},
	} {
		_, err := iss.Token(p)
		require.ErrorContains(t, err, want)
	}
}
