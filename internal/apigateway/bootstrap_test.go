package apigateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/apigateway"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// TestARealBootstrapBehindTheHTTPAPI serves a Go function's real
// bootstrap, under the Runtime Interface Emulator, behind the HTTP API:
// the event it decodes with aws-lambda-go and the response it encodes are
// the ones this package writes and reads.
func TestARealBootstrapBehindTheHTTPAPI(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the emulator runs on Linux only")
	}
	if testing.Short() {
		// Its dependencies build with lambdaemu's test function, so with a
		// warm build cache it costs a second; cold, half a minute.
		t.Skip("builds a bootstrap and runs it under the emulator")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	builder := &lambdaemu.Builder{ModuleDir: "../.."}
	emulator, err := builder.Emulator(ctx)
	require.NoError(t, err)
	bootstrap := filepath.Join(t.TempDir(), "httpfn", "bootstrap")
	require.NoError(t, builder.Bootstrap(ctx, "./internal/apigateway/testdata/httpfn", bootstrap))
	pool, err := lambdaemu.NewPool(lambdaemu.Params{Name: "HttpFunction", Emulator: emulator, Bootstrap: bootstrap, Timeout: 10 * time.Second}, 1)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })

	gw, err := apigateway.NewHTTPAPI(apigateway.HTTPAPIParams{
		API: stackmodel.HTTPAPI{LogicalID: "Api", ID: "apiid", Routes: []stackmodel.HTTPRoute{{Function: "HttpFunction", Method: "ANY", Path: "/{proxy+}"}}},
		Invoke: func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
			if function != "HttpFunction" {
				return nil, fmt.Errorf("invoking %s: not the test's function", function)
			}
			return pool.Invoke(ctx, payload)
		},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)

	resp, body := get(t, srv, http.MethodPut, "/items/7?q=a", "\x00\x01", http.Header{"Content-Type": {"application/octet-stream"}, "Cookie": {"c=1"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, "httpfn", resp.Header.Get("X-Function"))
	require.Equal(t, []string{"fn=1"}, resp.Header.Values("Set-Cookie"))
	var ev events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal([]byte(body), &ev))
	require.Equal(t, "ANY /{proxy+}", ev.RouteKey)
	require.Equal(t, map[string]string{"proxy": "items/7"}, ev.PathParameters)
	require.Equal(t, map[string]string{"q": "a"}, ev.QueryStringParameters)
	require.Equal(t, []string{"c=1"}, ev.Cookies)
	require.True(t, ev.IsBase64Encoded)
	require.Equal(t, "AAE=", ev.Body)
	require.Equal(t, resp.Header.Get("apigw-requestid"), ev.RequestContext.RequestID)

	resp, body = get(t, srv, http.MethodGet, "/fail", "", nil)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.JSONEq(t, `{"message":"Internal Server Error"}`, body)
}
