package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/ratelimit"
)

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	path := "/v1/workflows/reply/executions"

	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, path, `{"input": {"message": "one"}}`, "Idempotency-Key", "order-7")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	first := jsonOf(t, raw)

	// A retry, with other whitespace: the same execution.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, `{"input":{"message":"one"}}`, "Idempotency-Key", "order-7")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first["id"], jsonOf(t, raw)["id"])

	// The key's row names the execution it started.
	var stored string
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT execution_arn FROM api.idempotency_keys WHERE key = 'order-7'`).Scan(&stored))
	require.Equal(t, first["arn"], stored)

	// A retry after the execution closed still returns it.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+first["id"].(string)+"/stop", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, `{"input": {"message": "one"}}`, "Idempotency-Key", "order-7")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, first["id"], jsonOf(t, raw)["id"])

	// The same key with another body is refused, naming the header.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, `{"input": {"message": "two"}}`, "Idempotency-Key", "order-7")
	require.Equal(t, http.StatusConflict, resp.StatusCode, "%s", raw)
	p := jsonOf(t, raw)
	require.Equal(t, "https://aiflow.dev/problems/idempotency-key-reused", p["type"])
	require.Equal(t, "header:Idempotency-Key", p["errors"].([]any)[0].(map[string]any)["location"])

	// Keys belong to their principal: another caller's same key is another
	// execution.
	resp, raw = b.call(t, auth.RoleAdmin, http.MethodPost, path, `{"input": {"message": "one"}}`, "Idempotency-Key", "order-7")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	require.NotEqual(t, first["id"], jsonOf(t, raw)["id"])

	// Without a key, each start is a new execution.
	require.NotEqual(t, b.start(t, "reply", `{"message": "one"}`), b.start(t, "reply", `{"message": "one"}`))
}

func TestStrictBodies(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	start := "/v1/workflows/reply/executions"
	deep := strings.Repeat("[", httpapi.MaxDepth+1) + strings.Repeat("]", httpapi.MaxDepth+1)

	for _, tc := range []struct {
		name, body string
		status     int
		pointer    string // or location
		location   string
	}{
		{"unknown field", `{"input": {"message": "x"}, "priority": 1}`, 400, "/priority", ""},
		{"duplicate key", `{"input": {"message": "x", "message": "y"}}`, 400, "/input/message", ""},
		{"duplicate key in an array", `{"input": {"message": "x", "list": [{"a": 1, "a": 2}]}}`, 400, "/input/list/0/a", ""},
		{"trailing data", `{"input": {"message": "x"}} {}`, 400, "", "body:1:29"},
		{"not JSON", "{\n  \"input\": nope}", 400, "", "body:2:13"},
		{"too deep", `{"input": ` + deep + `}`, 400, "/input" + strings.Repeat("/0", httpapi.MaxDepth-1), ""},
		{"wrong type", `{"input": {"message": 7}}`, 422, "/input/message", ""},
		{"missing required", `{"input": {}}`, 422, "/input", ""},
		{"input too large", `{"input": {"message": "` + strings.Repeat("x", httpapi.MaxInputBytes) + `"}}`, 413, "/input", ""},
	} {
		resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, start, tc.body)
		require.Equal(t, tc.status, resp.StatusCode, "%s: %s", tc.name, raw)
		require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), tc.name)
		p := jsonOf(t, raw)
		require.Equal(t, float64(tc.status), p["status"], tc.name)
		require.Equal(t, start, p["instance"], tc.name)
		errs, _ := p["errors"].([]any)
		require.NotEmpty(t, errs, "%s: %s", tc.name, raw)
		first := errs[0].(map[string]any)
		if tc.pointer != "" {
			require.Equal(t, tc.pointer, first["pointer"], "%s: %s", tc.name, raw)
		} else {
			require.Equal(t, tc.location, first["location"], "%s: %s", tc.name, raw)
		}
	}

	// The input limit counts bytes: 256 KiB of multi-byte text is over it
	// at fewer characters.
	msg := strings.Repeat("é", httpapi.MaxInputBytes/2)
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, start, `{"input": {"message": "`+msg+`"}}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%.200s", raw)

	// Decisions are strict too.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/apr_x", `{"approve": "yes"}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "/approve", jsonOf(t, raw)["errors"].([]any)[0].(map[string]any)["pointer"])
}

func TestPublishing(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})

	// A definition with errors: 422, each error at file:line:col.
	bad := strings.Replace(replyWorkflow, "{{ input.message }}?", "{{ input.mesage }}?", 1)
	body, _ := json.Marshal(map[string]string{"definition": bad})
	resp, raw := b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", string(body))
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s", raw)
	p := jsonOf(t, raw)
	require.Equal(t, "https://aiflow.dev/problems/invalid-definition", p["type"])
	first := p["errors"].([]any)[0].(map[string]any)
	require.Regexp(t, `^definition\.yaml:11:\d+$`, first["location"])
	require.Contains(t, first["detail"], "mesage")

	// A dry run of a good one: valid, the ASL and graph, nothing stored.
	body, _ = json.Marshal(map[string]string{"definition": replyWorkflow})
	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", string(body))
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, true, jsonOf(t, raw)["valid"])
	resp, _ = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// As raw YAML.
	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", replyWorkflow, "Content-Type", "application/yaml")
	require.Equal(t, http.StatusCreated, resp.StatusCode, "%s", raw)
	require.Equal(t, "/v1/workflows/reply/versions/1", resp.Header.Get("Location"))

	// The same text again adds no version; a changed one adds version 2.
	again := b.publish(t, replyWorkflow)
	require.Equal(t, false, again["created"])
	changed := b.publish(t, strings.Replace(replyWorkflow, "maxLength: 2000", "maxLength: 1000", 1))
	require.Equal(t, float64(2), changed["version"].(map[string]any)["version"])
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, float64(2), jsonOf(t, raw)["latest_version"])
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply/versions/1", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, jsonOf(t, raw)["definition"], "maxLength: 2000", "versions are immutable")
	resp, _ = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply/versions/3", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	_, err := b.pool.Exec(t.Context(), `UPDATE api.workflow_versions SET definition = 'x'`)
	require.Error(t, err, "the table refuses changes")

	// Pages of one.
	b.publish(t, strings.Replace(replyWorkflow, "name: reply", "name: another", 1))
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows?limit=1", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page := jsonOf(t, raw)
	require.Equal(t, "another", page["items"].([]any)[0].(map[string]any)["name"])
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows?limit=1&cursor="+page["next_cursor"].(string), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	page = jsonOf(t, raw)
	require.Equal(t, "reply", page["items"].([]any)[0].(map[string]any)["name"])
	require.NotContains(t, page, "next_cursor")

	// Limits and media types.
	huge, _ := json.Marshal(map[string]string{"definition": replyWorkflow + "#" + strings.Repeat("x", httpapi.MaxDefinitionBytes)})
	resp, raw = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", string(huge))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "%.300s", raw)
	resp, _ = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows", replyWorkflow, "Content-Type", "text/plain")
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestListingStoppingAndExpiredApprovals(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	b.publish(t, strings.Replace(replyWorkflow, "name: reply", "name: another", 1))
	ids := []string{b.start(t, "reply", `{"message": "a"}`), b.start(t, "reply", `{"message": "b"}`), b.start(t, "another", `{"message": "c"}`)}
	approval := b.waitPending(t, ids[0])

	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+ids[0]+"/stop", `{"cause": "not needed"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	stopped := jsonOf(t, raw)
	require.Equal(t, "ABORTED", stopped["status"])
	require.Equal(t, "not needed", stopped["cause"])

	// The stopped execution's approval can no longer be decided.
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": true}`)
	require.Equal(t, http.StatusConflict, resp.StatusCode, "%s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], "no longer waiting")
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/approvals?status=expired", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Len(t, jsonOf(t, raw)["items"], 1)

	// Every execution, two at a time, across workflows.
	var seen []string
	cursor := ""
	for {
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions?limit=2"+cursor, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		page := jsonOf(t, raw)
		for _, it := range page["items"].([]any) {
			seen = append(seen, it.(map[string]any)["id"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			break
		}
		cursor = "&cursor=" + next
	}
	require.ElementsMatch(t, ids, seen)

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions?workflow=reply&status=aborted", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	items := jsonOf(t, raw)["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, ids[0], items[0].(map[string]any)["id"])

	resp, _ = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions?status=sleeping", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, _ = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/not-an-id", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestStreamResumesAfterLastEventID(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "resume"}`)
	approval := b.waitPending(t, id)
	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": false, "comment": "no"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	done := b.waitClosed(t, id)
	require.Equal(t, "SUCCEEDED", done["status"])
	require.Equal(t, false, done["output"].(map[string]any)["approved"])

	_, r := b.openStream(t, id, "")
	all := readAll(t, r)
	var history []sseEvent
	for _, ev := range all {
		if ev.Event == "history" {
			history = append(history, ev)
		}
	}
	require.Greater(t, len(history), 4)
	require.Equal(t, "end", all[len(all)-1].Event)

	// Resuming after the third event sends the fourth onwards, once each.
	for _, last := range []string{history[2].ID, history[2].ID + ".5"} {
		_, r = b.openStream(t, id, last)
		resumed := readAll(t, r)
		require.Equal(t, history[3].ID, resumed[0].ID, "after %s", last)
		require.Len(t, resumed, len(all)-3)
	}

	// Resuming after the last event: only the end.
	_, r = b.openStream(t, id, history[len(history)-1].ID)
	rest := readAll(t, r)
	require.Len(t, rest, 1)
	require.Equal(t, "end", rest[0].Event)

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"/stream", "", "Last-Event-ID", "banana")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
}

func TestRateLimitPerPrincipal(t *testing.T) {
	t.Parallel()
	limiter, err := ratelimit.New(ratelimit.Options{Rate: 0.001, Burst: 2})
	require.NoError(t, err)
	b := setupAPI(t, bundleOptions{limiter: limiter})
	for range 2 {
		resp, _ := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows", "")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "%s", raw)
	require.NotEmpty(t, resp.Header.Get("Retry-After"))
	resp, _ = b.call(t, auth.RoleOperator, http.MethodGet, "/v1/workflows", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "another principal has its own bucket")

	// A mutation refused by the limit is audited as failed, with its status.
	for range 2 {
		resp, _ = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", replyWorkflow, "Content-Type", "application/yaml")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	resp, _ = b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", replyWorkflow, "Content-Type", "application/yaml")
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	var status int
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT (details->>'status')::int FROM api.audit_log
		WHERE actor = 'author-user' AND outcome = 'failed' ORDER BY seq DESC LIMIT 1`).Scan(&status))
	require.Equal(t, http.StatusTooManyRequests, status)
}

// TestExecutionsNameTheVersionTheyRun: an execution read alone names the
// workflow version it runs, which stays the version it started on after
// the next one is published.
func TestExecutionsNameTheVersionTheyRun(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	first := b.start(t, "reply", `{"message": "a"}`)
	b.waitPending(t, first)
	b.publish(t, strings.Replace(replyWorkflow, "A person approves", "Someone approves", 1))
	second := b.start(t, "reply", `{"message": "b"}`)
	b.waitPending(t, second)

	for id, want := range map[string]float64{first: 1, second: 2} {
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		require.Equal(t, want, jsonOf(t, raw)["workflow_version"], "%s", raw)
	}
}
