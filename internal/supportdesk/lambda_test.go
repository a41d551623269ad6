package supportdesk_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

func functionURLHandler(t *testing.T, b *testBundle) *supportdesk.FunctionURLHandler {
	t.Helper()
	s, err := supportdesk.NewServer(b.desk, supportdesk.ServerOptions{})
	require.NoError(t, err)
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{Server: s, TokenSecret: testSecret, Stateless: true})
	require.NoError(t, err)
	return supportdesk.NewFunctionURLHandler(h)
}

// asFunctionURL is a Function URL in front of the Lambda handler: each HTTP
// request becomes a LambdaFunctionURLRequest (payload format 2.0) and the
// response goes back as Lambda returned it.
func asFunctionURL(t *testing.T, f *supportdesk.FunctionURLHandler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		ev := events.LambdaFunctionURLRequest{
			Version: "2.0", RawPath: r.URL.Path, RawQueryString: r.URL.RawQuery, Headers: map[string]string{}, Body: string(body),
			RequestContext: events.LambdaFunctionURLRequestContext{
				DomainName: "abcdefghij.lambda-url.eu-west-1.on.aws",
				HTTP:       events.LambdaFunctionURLRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, SourceIP: "203.0.113.7"},
			},
		}
		for k, v := range r.Header {
			ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
		}
		// A fresh context, as Lambda gives: the test server's would carry
		// its loopback address, which the SDK's DNS-rebinding guard checks.
		resp, err := f.Handle(context.Background(), ev)
		require.NoError(t, err)
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.WriteString(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFunctionURL runs the rules over the Lambda handler with the SDK's
// client, stateless, as on AWS.
func TestFunctionURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	srv := asFunctionURL(t, functionURLHandler(t, b))
	cs := connectHTTPTo(t, srv.URL, token(t, "lambda-test", 0))
	require.Equal(t, "Ada Lovelace", ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"email": "ada@example.com"}).Name)
	first := ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 12.5, "reason": "Scuffed.", "request_id": "lambda-1"})
	require.Equal(t, first, ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 12.5, "reason": "Scuffed.", "request_id": "lambda-1"}))
	require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderOutOfWindow, "amount": 1, "reason": "r"}), "outside its refund window")

	scoped := connectHTTPTo(t, srv.URL, token(t, "lambda-test", adaID))
	require.Contains(t, fails(t, scoped, "get_order", map[string]any{"order_id": orderLarge}), "there is no order 1050")

	status, body := post(t, srv.URL, initializeBody, nil)
	require.Equal(t, http.StatusUnauthorized, status, body)
	status, body = post(t, srv.URL, initializeBody, map[string]string{"Origin": "https://evil.example.net"})
	require.Equal(t, http.StatusForbidden, status, body)
}

// TestFunctionURLSampleEvent invokes the handler with events/mcpserver-tools-list.json,
// whose token is signed with the secret docs/support-desk.md gives for it.
func TestFunctionURLSampleEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	raw, err := os.ReadFile("../../events/mcpserver-tools-list.json")
	require.NoError(t, err)
	var ev events.LambdaFunctionURLRequest
	require.NoError(t, json.Unmarshal(raw, &ev))

	s, err := supportdesk.NewServer(b.desk, supportdesk.ServerOptions{})
	require.NoError(t, err)
	h, err := supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{Server: s, TokenSecret: []byte(sampleEventSecret), Stateless: true})
	require.NoError(t, err)
	resp, err := supportdesk.NewFunctionURLHandler(h).Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	require.Equal(t, "application/json", resp.Headers["Content-Type"])
	var reply struct {
		Result struct {
			Tools []struct {
				Name string `json:"name"`
			} `json:"tools"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &reply), resp.Body)
	var names []string
	for _, tool := range reply.Result.Tools {
		names = append(names, tool.Name)
	}
	require.ElementsMatch(t, []string{"find_customer", "get_order", "search_kb", "create_ticket", "update_ticket", "escalate_ticket", "issue_refund"}, names)

	// The same event signed with another secret is refused.
	h, err = supportdesk.NewHTTPHandler(supportdesk.HTTPOptions{Server: s, TokenSecret: testSecret, Stateless: true})
	require.NoError(t, err)
	resp, err = supportdesk.NewFunctionURLHandler(h).Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// sampleEventSecret signs the token in events/mcpserver-tools-list.json. It
// is for that sample only, never for a deployment.
const sampleEventSecret = "sample-event-secret-do-not-deploy-0123456789"

// secretSource is a secrets.Source over a map.
type secretSource map[string]string

func (s secretSource) Get(_ context.Context, name string) (string, error) {
	if v, ok := s[name]; ok {
		return v, nil
	}
	return "", secrets.ErrNotFound
}

// TestFunctionReadsItsTokenSecretFromSecretsManager: with
// AIFLOW_SUPPORT_TOKEN_SECRET_ARN the function reads the key from the
// secret it names, and the sample event's token checks against it.
func TestFunctionReadsItsTokenSecretFromSecretsManager(t *testing.T) {
	t.Parallel()
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:aiflow/mcp/support-token-AbCdEf"
	cfg, err := config.LoadMCPServer(func(k string) (string, bool) {
		v, ok := map[string]string{
			"AIFLOW_SUPPORT_TOKEN_SECRET_ARN": arn,
			"DATABASE_URL":                    "postgres://aiflow_support@127.0.0.1:1/aiflow",
		}[k]
		return v, ok
	})
	require.NoError(t, err)
	f, err := supportdesk.NewFunction(context.Background(), cfg, supportdesk.FunctionOptions{
		LogWriter: io.Discard, Secrets: secretSource{arn: sampleEventSecret},
	})
	require.NoError(t, err)
	t.Cleanup(f.Close)
	raw, err := os.ReadFile("../../events/mcpserver-tools-list.json")
	require.NoError(t, err)
	var ev events.LambdaFunctionURLRequest
	require.NoError(t, json.Unmarshal(raw, &ev))
	resp, err := f.Handler.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, resp.Body)
	require.Contains(t, resp.Body, "find_customer")

	_, err = supportdesk.NewFunction(context.Background(), cfg, supportdesk.FunctionOptions{LogWriter: io.Discard, Secrets: secretSource{arn: "short"}})
	require.ErrorContains(t, err, "is shorter than 32 bytes")
	_, err = supportdesk.NewFunction(context.Background(), cfg, supportdesk.FunctionOptions{LogWriter: io.Discard, Secrets: secretSource{}})
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.ErrorContains(t, err, "AIFLOW_SUPPORT_TOKEN_SECRET_ARN")
}
