package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/audit"
	"github.com/aiflow/aiflow/internal/auth"
)

// TestPublishStartStreamApproveResult is the whole path a user takes:
// publish a workflow with an approval step and an ai step, start it, read
// its events, follow its stream, approve, and read the result with its
// tokens and cost.
func TestPublishStartStreamApproveResult(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})

	pub := b.publish(t, replyWorkflow)
	require.Equal(t, true, pub["created"])
	require.Equal(t, float64(1), pub["version"].(map[string]any)["version"])

	resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/workflows/reply/versions/1", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	v := jsonOf(t, raw)
	require.Equal(t, replyWorkflow, v["definition"])
	require.Contains(t, v["asl"], `"StartAt": "aiflow-start"`)
	require.Contains(t, v["asl"], "${ApprovalQueueUrl}", "the stored ASL is the compiler's, substitutions kept")
	require.Contains(t, v["graph"], "flowchart")
	require.Equal(t, "author-user", v["created_by"])

	id := b.start(t, "reply", `{"message": "Where is my order?"}`)
	approval := b.waitPending(t, id)
	require.Equal(t, "approve", approval["step"])
	require.Equal(t, "Answer Where is my order??", approval["message"])
	require.Equal(t, []any{"support-leads"}, approval["approvers"])
	require.NotContains(t, string(mustJSON(t, approval)), "token", "the task token is never shown")

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	running := jsonOf(t, raw)
	require.Equal(t, "RUNNING", running["status"])
	require.Equal(t, "approve", running["current_step"])
	require.Equal(t, "reply", running["workflow"])
	require.Equal(t, map[string]any{"message": "Where is my order?"}, running["input"])

	// The stream is open before the decision, so the model's tokens reach it.
	_, stream := b.openStream(t, id, "")
	first, ok := next(t, stream)
	require.True(t, ok)
	require.Equal(t, "history", first.Event)
	require.Equal(t, "1", first.ID)

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": true, "comment": "go ahead"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	decided := jsonOf(t, raw)
	require.Equal(t, "approved", decided["status"])
	require.Equal(t, "operator-user", decided["decided_by"])

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": true, "comment": "go ahead"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the same decision again, a retry: %s", raw)
	require.Equal(t, decided, jsonOf(t, raw))

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), `{"approve": false}`)
	require.Equal(t, http.StatusConflict, resp.StatusCode, "deciding twice: %s", raw)
	require.Contains(t, jsonOf(t, raw)["detail"], "decided already: approved by operator-user")

	events := append([]sseEvent{first}, readAll(t, stream)...)
	var text strings.Builder
	var types []string
	for _, ev := range events {
		switch ev.Event {
		case "token":
			var tok map[string]any
			require.NoError(t, json.Unmarshal(ev.Data, &tok))
			require.Equal(t, "draft", tok["step"])
			text.WriteString(tok["text"].(string))
			require.Contains(t, ev.ID, ".", "a token's id is the history id it follows and its number")
		case "history":
			var h map[string]any
			require.NoError(t, json.Unmarshal(ev.Data, &h))
			types = append(types, h["type"].(string))
		}
	}
	require.Equal(t, "Thanks for writing; we are on it.", text.String())
	require.Equal(t, "end", events[len(events)-1].Event)
	require.JSONEq(t, `{"status":"SUCCEEDED"}`, string(events[len(events)-1].Data))
	require.Equal(t, "ExecutionStarted", types[0])
	require.Equal(t, "ExecutionSucceeded", types[len(types)-1])

	done := b.waitClosed(t, id)
	require.Equal(t, "SUCCEEDED", done["status"])
	require.Equal(t, map[string]any{"approved": true, "approver": "operator-user", "reply": "Thanks for writing; we are on it."}, done["output"])
	require.Equal(t, map[string]any{"input_tokens": float64(12), "output_tokens": float64(8), "cost_usd": 0.028, "model_calls": float64(1)}, done["usage"])
	require.NotNil(t, done["stopped_at"])
	require.NotNil(t, done["duration_ms"])

	// The history, in pages of 5 that end with the stream's last event.
	var all []any
	cursor := ""
	for {
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"/events?limit=5"+cursor, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		page := jsonOf(t, raw)
		items := page["items"].([]any)
		require.LessOrEqual(t, len(items), 5)
		all = append(all, items...)
		next, more := page["next_cursor"].(string)
		if !more {
			break
		}
		cursor = "&cursor=" + next
	}
	require.Len(t, all, len(types))
	require.Equal(t, "ExecutionSucceeded", all[len(all)-1].(map[string]any)["type"])

	// Every mutating request was audited, with its actor and outcome.
	recs := auditRecords(t, b)
	require.Contains(t, recs, "author-user workflows:publish succeeded")
	require.Contains(t, recs, "operator-user executions:start succeeded")
	require.Contains(t, recs, "operator-user approvals:decide succeeded")
	require.Contains(t, recs, "operator-user approvals:decide failed")
}

// auditRecords lists the audit log as "actor action outcome" lines.
func auditRecords(t *testing.T, b *apiBundle) []string {
	t.Helper()
	rows, err := b.pool.Query(t.Context(), `SELECT actor, action, outcome FROM api.audit_log ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var actor, action string
		var outcome audit.Outcome
		require.NoError(t, rows.Scan(&actor, &action, &outcome))
		out = append(out, actor+" "+action+" "+string(outcome))
	}
	require.NoError(t, rows.Err())
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}
