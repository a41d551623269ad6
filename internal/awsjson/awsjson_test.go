package awsjson_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson"
)

// errOwn is an error of the service under test, which ErrorOf translates.
var errOwn = errors.New("own")

func testServer() *awsjson.Server {
	ops := map[string]awsjson.Operation{
		"Echo": func(_ context.Context, c *awsjson.Call) (any, error) {
			m, err := awsjson.ParseMembers(c.Op, c.Body)
			if err != nil {
				return nil, err
			}
			out := map[string]any{"Name": m.String("Name"), "Flag": m.Boolean("Flag", true), "Tags": m.Strings("Tags")}
			return out, m.Done()
		},
		"Own":   func(context.Context, *awsjson.Call) (any, error) { return nil, errOwn },
		"Fail":  func(context.Context, *awsjson.Call) (any, error) { return nil, errors.New("disk on fire") },
		"Panic": func(context.Context, *awsjson.Call) (any, error) { panic("boom") },
		"Bad":   func(context.Context, *awsjson.Call) (any, error) { return func() {}, nil },
	}
	return awsjson.NewServer(awsjson.Config{
		Name: "testapi", API: "Test", TargetPrefix: "Test.",
		ContentType: "application/x-amz-json-1.0", ContentTypes: []string{"application/x-amz-json-1.0", "application/json"},
		Route: func(op, target string) (awsjson.Operation, error) {
			run, ok := ops[op]
			if !ok || !strings.HasPrefix(target, "Test.") {
				return nil, awsjson.BadRequest(awsjson.CodeUnknownOperation, "unknown operation %q", target)
			}
			return run, nil
		},
		TooLargeCode: "TooLarge", InternalCode: "InternalFailure",
		ErrorOf: func(err error) *awsjson.Error {
			if errors.Is(err, errOwn) {
				return &awsjson.Error{Status: http.StatusConflict, Code: "Own", Message: "translated"}
			}
			return nil
		},
		ErrorType:    func(code string) string { return "ns#" + code },
		ErrorHeaders: func(h http.Header, e *awsjson.Error) { h.Set("x-amzn-ErrorType", e.Code) },
		MaxBodyBytes: 64, RequestIDFunc: func() string { return "req-1" },
	})
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func call(t *testing.T, method, target, contentType, body string) response {
	t.Helper()
	r := httptest.NewRequest(method, "/", strings.NewReader(body))
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	testServer().ServeHTTP(w, r)
	raw, err := io.ReadAll(w.Result().Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	return response{status: w.Code, header: w.Header(), body: out}
}

func TestServerAnswers(t *testing.T) {
	t.Parallel()
	res := call(t, http.MethodPost, "Test.Echo", "application/x-amz-json-1.0", `{"Name":"n","Tags":["a"]}`)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, map[string]any{"Name": "n", "Flag": true, "Tags": []any{"a"}}, res.body)
	require.Equal(t, "req-1", res.header.Get("x-amzn-RequestId"))
	require.Equal(t, "application/x-amz-json-1.0", res.header.Get("Content-Type"))
	require.Empty(t, res.header.Get("x-amzn-ErrorType"))
}

func TestServerErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		method, target, contentType, body string
		status                            int
		code, message                     string
	}{
		"method":        {http.MethodGet, "Test.Echo", "", "", http.StatusMethodNotAllowed, awsjson.CodeUnknownOperation, "method GET is not allowed: the Test API takes POST requests"},
		"route":         {http.MethodPost, "Other.Echo", "", "", http.StatusBadRequest, awsjson.CodeUnknownOperation, `unknown operation "Other.Echo"`},
		"content type":  {http.MethodPost, "Test.Echo", "text/plain", "{}", http.StatusBadRequest, awsjson.CodeSerialization, `content type "text/plain" of Echo request is not application/x-amz-json-1.0`},
		"too large":     {http.MethodPost, "Test.Echo", "", `{"Name":"` + strings.Repeat("x", 64) + `"}`, http.StatusRequestEntityTooLarge, "TooLarge", "Echo request body exceeds 64 bytes"},
		"not an object": {http.MethodPost, "Test.Echo", "", `[]`, http.StatusBadRequest, awsjson.CodeSerialization, "Echo request body is not a JSON object: json: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		"wrong type":    {http.MethodPost, "Test.Echo", "", `{"Name":1}`, http.StatusBadRequest, awsjson.CodeSerialization, "member Name of Echo must be a string, not a number"},
		"unknown first": {http.MethodPost, "Test.Echo", "", `{"Name":1,"Nmae":"x"}`, http.StatusBadRequest, awsjson.CodeSerialization, "unknown member Nmae in Echo request"},
		"translated":    {http.MethodPost, "Test.Own", "", "", http.StatusConflict, "Own", "translated"},
		"internal":      {http.MethodPost, "Test.Fail", "", "", http.StatusInternalServerError, "InternalFailure", "internal failure; request id req-1"},
		"panic":         {http.MethodPost, "Test.Panic", "", "", http.StatusInternalServerError, "InternalFailure", "internal failure; request id req-1"},
		"encoding":      {http.MethodPost, "Test.Bad", "", "", http.StatusInternalServerError, "InternalFailure", "internal failure; request id req-1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := call(t, tc.method, tc.target, tc.contentType, tc.body)
			require.Equal(t, tc.status, res.status)
			require.Equal(t, map[string]any{"__type": "ns#" + tc.code, "message": tc.message}, res.body)
			require.Equal(t, tc.code, res.header.Get("x-amzn-ErrorType"))
			require.Equal(t, "req-1", res.header.Get("x-amzn-RequestId"))
		})
	}
}

func TestMembers(t *testing.T) {
	t.Parallel()
	m, err := awsjson.ParseMembers("Op", []byte(`{"S":"s","B":false,"L":["x"],"M":{"k":"v"},"O":{"A":1},"N":null,"I":1}`))
	require.NoError(t, err)
	require.Equal(t, "Op", m.Op())
	require.Equal(t, "s", m.String("S"))
	require.Nil(t, m.OptString("N"))
	require.False(t, m.Boolean("B", true))
	require.Equal(t, []string{"x"}, m.Strings("L"))
	require.Equal(t, map[string]string{"k": "v"}, m.StringMap("M"))
	var o struct{ A int }
	require.True(t, m.Object("O", &o, "an object"))
	require.Equal(t, 1, o.A)
	require.False(t, m.Failed())
	m.Ignore("I")
	require.NoError(t, m.Done())

	m, err = awsjson.ParseMembers("Op", nil)
	require.NoError(t, err)
	require.Empty(t, m.String("S"))
	m.Fail(awsjson.BadRequest("First", "first"))
	m.Fail(awsjson.BadRequest("Second", "second"))
	require.True(t, m.Failed())
	require.EqualError(t, m.Done(), "First: first")

	_, err = awsjson.ParseMembers("Op", []byte(`null`))
	require.NoError(t, err)

	for v, kind := range map[string]string{`"s"`: "a string", `{}`: "an object", `[]`: "an array", `true`: "a boolean", `null`: "null", `1`: "a number", ` `: "empty"} {
		require.Equal(t, kind, awsjson.JSONKind(json.RawMessage(v)))
	}
}
