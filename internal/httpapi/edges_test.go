package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// problemField is the first entry of a problem's errors: its pointer or
// location, and the problem's type.
func problemField(t *testing.T, raw []byte) (typ, where string) {
	t.Helper()
	p := jsonOf(t, raw)
	errs, _ := p["errors"].([]any)
	require.NotEmpty(t, errs, "%s", raw)
	first := errs[0].(map[string]any)
	where, _ = first["pointer"].(string)
	if where == "" {
		where, _ = first["location"].(string)
	}
	typ, _ = p["type"].(string)
	return typ, where
}

// TestTextGate: NUL, invalid UTF-8 and lone surrogates are refused at
// every part of a request with a 400 naming where, before anything reaches
// the database or the engine.
func TestTextGate(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "hello"}`)
	cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

	for _, tc := range []struct {
		name         string
		role         auth.Role
		method, path string
		body         string
		header       []string
		where        string
	}{
		{"NUL in a stop reason", auth.RoleOperator, http.MethodPost, "/v1/executions/" + id + "/stop", `{"error": "Ops.Stopped", "cause": "because\u0000"}`, nil, "/cause"},
		{"NUL in a stop error", auth.RoleOperator, http.MethodPost, "/v1/executions/" + id + "/stop", "{\"error\": \"x\x00\"}", nil, "/error"},
		{"NUL in an approval comment", auth.RoleOperator, http.MethodPost, "/v1/approvals/apr_x", `{"approve": true, "comment": "ok\u0000"}`, nil, "/comment"},
		{"NUL in a task's input", auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", `{"input": {"message": "hi\u0000"}}`, nil, "/input/message"},
		{"NUL in an input's key", auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", `{"input": {"message": "hi", "x\u0000": 1}}`, nil, "/input"},
		{"lone surrogate in an input", auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", `{"input": {"message": "\ud800"}}`, nil, "/input/message"},
		{"lone low surrogate in a comment", auth.RoleOperator, http.MethodPost, "/v1/approvals/apr_x", `{"approve": false, "comment": "\udfff"}`, nil, "/comment"},
		{"invalid UTF-8 in an input", auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", "{\"input\": {\"message\": \"\xff\"}}", nil, "/input/message"},
		{"invalid UTF-8 in a definition (JSON)", auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", "{\"definition\": \"name: \xc3\"}", nil, "/definition"},
		{"NUL in a definition (YAML)", auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", "name: reply\nsteps: \x00\n", []string{"Content-Type", "application/yaml"}, "body:2:8"},
		{"invalid UTF-8 in a path segment", auth.RoleViewer, http.MethodGet, "/v1/workflows/%FF", "", nil, "path:name"},
		{"NUL in a path segment", auth.RoleOperator, http.MethodPost, "/v1/workflows/re%00ply/executions", `{"input": {"message": "x"}}`, nil, "path:name"},
		{"invalid UTF-8 in a version's workflow", auth.RoleViewer, http.MethodGet, "/v1/workflows/%C3/versions/1", "", nil, "path:name"},
		{"NUL in an approval id", auth.RoleOperator, http.MethodPost, "/v1/approvals/apr%00", `{"approve": true}`, nil, "path:id"},
		{"invalid UTF-8 in a query parameter", auth.RoleViewer, http.MethodGet, "/v1/executions?workflow=%FF", "", nil, "query:workflow"},
		{"NUL in a query parameter", auth.RoleViewer, http.MethodGet, "/v1/approvals?status=%00", "", nil, "query:status"},
		{"invalid UTF-8 in a query parameter's name", auth.RoleViewer, http.MethodGet, "/v1/workflows?%FF=1", "", nil, "query"},
		{"invalid UTF-8 in a cursor", auth.RoleViewer, http.MethodGet, "/v1/workflows?cursor=" + cursor("\xff"), "", nil, "query:cursor"},
		{"NUL in a cursor", auth.RoleViewer, http.MethodGet, "/v1/approvals?cursor=" + cursor("apr\x00"), "", nil, "query:cursor"},
		{"escaped NUL in an executions cursor", auth.RoleViewer, http.MethodGet, "/v1/executions?cursor=" + cursor(`{"w": "reply\u0000"}`), "", nil, "query:cursor"},
		{"lone surrogate in an executions cursor", auth.RoleViewer, http.MethodGet, "/v1/executions?cursor=" + cursor(`{"w": "\ud800"}`), "", nil, "query:cursor"},
		{"invalid UTF-8 in an events cursor", auth.RoleViewer, http.MethodGet, "/v1/executions/" + id + "/events?cursor=" + cursor("\xfe"), "", nil, "query:cursor"},
		{"invalid UTF-8 in an Idempotency-Key", auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", `{"input": {"message": "x"}}`, []string{"Idempotency-Key", "key-\xff"}, "header:Idempotency-Key"},
		{"invalid UTF-8 in Last-Event-ID", auth.RoleViewer, http.MethodGet, "/v1/executions/" + id + "/stream", "", []string{"Last-Event-ID", "7\xff"}, "header:Last-Event-ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, raw := b.call(t, tc.role, tc.method, tc.path, tc.body, tc.header...)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			_, where := problemField(t, raw)
			require.Equal(t, tc.where, where, "%s", raw)
		})
	}

	// An id that decodes to an ARN holding a NUL or invalid UTF-8 is no
	// execution's: 404, never the engine's or the database's error.
	for _, arn := range []string{"arn:aws:states:us-east-1:123456789012:execution:reply:x\x00", "arn:aws:states:us-east-1:123456789012:execution:reply:\xff"} {
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+httpapi.ExecutionID(arn), "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
		resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+httpapi.ExecutionID(arn)+"/stop", "")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
	}

	// Nothing of it reached the engine: the execution runs on, unstopped.
	resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "RUNNING", jsonOf(t, raw)["status"])
	var n int
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM api.idempotency_keys`).Scan(&n))
	require.Zero(t, n)
}

// TestStrictKeys: keys are matched exactly. A key equal to another but
// for case is a duplicate, one that differs from a field's name only in
// case is unknown; encoding/json alone would take both.
func TestStrictKeys(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "hello"}`)

	for _, tc := range []struct {
		name, path, body, pointer, detail string
		role                              auth.Role
	}{
		{"two decisions", "/v1/approvals/apr_x", `{"approve": true, "Approve": false}`, "/Approve", `"Approve" is "approve" but for case`, auth.RoleOperator},
		{"a decision in another case", "/v1/approvals/apr_x", `{"Approve": true}`, "/Approve", `this route takes "approve"`, auth.RoleOperator},
		{"an input in another case", "/v1/workflows/reply/executions", `{"INPUT": {"message": "x"}}`, "/INPUT", `this route takes "input"`, auth.RoleOperator},
		{"two inputs", "/v1/workflows/reply/executions", `{"input": {"message": "x"}, "Input": {"message": "y"}}`, "/Input", "but for case", auth.RoleOperator},
		{"a cause in another case", "/v1/executions/" + id + "/stop", `{"Cause": "x"}`, "/Cause", `this route takes "cause"`, auth.RoleOperator},
		// encoding/json folds the long s (U+017F) to S.
		{"a cause with a long s", "/v1/executions/" + id + "/stop", "{\"cau\u017Fe\": \"x\"}", "/cau\u017Fe", `this route takes "cause"`, auth.RoleOperator},
		{"a cause twice, once with a long s", "/v1/executions/" + id + "/stop", "{\"cause\": \"x\", \"cau\u017Fe\": \"y\"}", "/cau\u017Fe", "but for case", auth.RoleOperator},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, raw := b.call(t, tc.role, http.MethodPost, tc.path, tc.body)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
			_, where := problemField(t, raw)
			require.Equal(t, tc.pointer, where, "%s", raw)
			detail := jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["detail"]
			require.Contains(t, detail, tc.detail)
		})
	}

	// Keys inside an input are the workflow's data: case is theirs.
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/workflows/reply/executions", `{"input": {"message": "x", "Message": "y"}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
}

// TestContentTypes: a body must come with its content type (415
// otherwise); a route whose body is optional takes none without one; an
// input of null is refused, not taken as {}.
func TestContentTypes(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	start := "/v1/workflows/reply/executions"
	id := b.start(t, "reply", `{"message": "hello"}`)
	body := `{"input": {"message": "x"}}`

	for _, tc := range []struct {
		name, path, body, ct string
		role                 auth.Role
	}{
		{"start as text/plain", start, body, "text/plain", auth.RoleOperator},
		{"start without a content type", start, body, "", auth.RoleOperator},
		{"start as form", start, body, "application/x-www-form-urlencoded", auth.RoleOperator},
		{"start as JSON in latin-1", start, body, "application/json; charset=iso-8859-1", auth.RoleOperator},
		{"stop as text/plain", "/v1/executions/" + id + "/stop", `{"cause": "x"}`, "text/plain", auth.RoleOperator},
		{"decide without a content type", "/v1/approvals/apr_x", `{"approve": true}`, "", auth.RoleOperator},
		{"publish as text/plain", "/v1/workflows?dry_run=true", replyWorkflow, "text/plain", auth.RoleAuthor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, raw := b.call(t, tc.role, http.MethodPost, tc.path, tc.body, "Content-Type", tc.ct)
			require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode, "%s", raw)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			require.Equal(t, float64(http.StatusUnsupportedMediaType), jsonOf(t, raw)["status"])
		})
	}

	// JSON with a charset of UTF-8 is JSON.
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, start, body, "Content-Type", "application/json; charset=UTF-8")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)

	// No body needs no content type: the input is {} (which reply's
	// schema refuses as such, naming /input, not the media type).
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, start, "")
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)

	// "input": null is refused, naming /input.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, start, `{"input": null}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	_, where := problemField(t, raw)
	require.Equal(t, "/input", where)

	// A stop without a body needs no content type.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+id+"/stop", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
}

// TestLambdaTextGate: behind API Gateway the request is built from the
// event, where a header may hold what net/http would refuse to carry (a
// NUL); the same gate answers.
func TestLambdaTextGate(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{authenticator: auth.AuthorizerClaims{Audience: []string{"aiflow"}}})
	entry := &httpapi.Entry{API: httpapi.NewLambdaHandler(b.api), Approvals: b.approvals}
	out, err := entry.Handle(t.Context(), readEvent(t, "api-publish-workflow.json"))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, out.(events.APIGatewayV2HTTPResponse).StatusCode)
	sample := readEvent(t, "api-start-execution.json")

	for _, tc := range []struct {
		name   string
		edit   func(ev *events.APIGatewayV2HTTPRequest)
		status int
		where  string
	}{
		{"a NUL in the Idempotency-Key", func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["idempotency-key"] = "ticket\x00" }, 400, "header:Idempotency-Key"},
		{"a NUL in the input", func(ev *events.APIGatewayV2HTTPRequest) {
			ev.Body = `{"input": {"message": "\u0000"}}`
			ev.Headers["content-length"] = strconv.Itoa(len(ev.Body))
		}, 400, "/input/message"},
		{"invalid UTF-8 in a query parameter", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawQueryString = "x=%FF" }, 400, "query:x"},
		{"no content type", func(ev *events.APIGatewayV2HTTPRequest) { delete(ev.Headers, "content-type") }, 415, "header:Content-Type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev events.APIGatewayV2HTTPRequest
			require.NoError(t, json.Unmarshal(sample, &ev))
			tc.edit(&ev)
			raw, err := json.Marshal(ev)
			require.NoError(t, err)
			out, err := entry.Handle(t.Context(), raw)
			require.NoError(t, err)
			resp := out.(events.APIGatewayV2HTTPResponse)
			require.Equal(t, tc.status, resp.StatusCode, resp.Body)
			_, where := problemField(t, []byte(resp.Body))
			require.Equal(t, tc.where, where, resp.Body)
		})
	}
}

// TestDefinitionEscapes: a definition's text passes the gate as sent, but
// YAML and JSON escapes ("\0", "\x00", "\u0000", "\ud800") make refused
// text once parsed; the compiled state machine is checked before it is
// deployed or stored, naming the file.
func TestDefinitionEscapes(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	for name, def := range map[string]string{
		`YAML \0`:       strings.Replace(replyWorkflow, `system: You draft replies.`, `system: "You draft\0 replies."`, 1),
		`YAML \x00`:     strings.Replace(replyWorkflow, `system: You draft replies.`, `system: "You draft\x00 replies."`, 1),
		`YAML \ud800`:   strings.Replace(replyWorkflow, `system: You draft replies.`, `system: "You draft\ud800 replies."`, 1),
		`in the schema`: strings.Replace(replyWorkflow, `maxLength: 2000}`, `maxLength: 2000, description: "a\0b"}`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, dryRun := range []string{"?dry_run=true", ""} {
				resp, raw := b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows"+dryRun, def, "Content-Type", "application/yaml")
				require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
				_, where := problemField(t, raw)
				require.Contains(t, where, "definition.yaml", "%s", raw)
			}
		})
	}
	resp, _ := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "nothing was stored")
}
