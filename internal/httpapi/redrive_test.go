package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
)

// TestRedrive: POST /v1/executions/{id}/redrive carries an aborted
// execution on, with its Idempotency-Key as the redrive's client token;
// what cannot be redriven is a 409 problem.
func TestRedrive(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "hi"}`)
	b.waitPending(t, id)
	path := "/v1/executions/" + id + "/redrive"

	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, path, "")
	require.Equal(t, http.StatusConflict, resp.StatusCode, "a running execution: %s", raw)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	require.Contains(t, jsonOf(t, raw)["detail"], "RUNNING")

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+id+"/stop", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, "ABORTED", b.waitClosed(t, id)["status"])

	resp, raw = b.call(t, auth.RoleViewer, http.MethodPost, path, "")
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a viewer may not redrive: %s", raw)
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, "", "Idempotency-Key", "with space")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, "", "Idempotency-Key", "redrive-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	x := jsonOf(t, raw)
	require.Equal(t, "RUNNING", x["status"])
	require.Equal(t, float64(1), x["redrive_count"])
	require.NotEmpty(t, x["redriven_at"])
	require.Nil(t, x["stopped_at"], "a redriven execution runs again")

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, "", "Idempotency-Key", "redrive-1")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the same key again answers the same redrive: %s", raw)
	require.Equal(t, x["redriven_at"], jsonOf(t, raw)["redriven_at"])
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path, "", "Idempotency-Key", "redrive-2")
	require.Equal(t, http.StatusConflict, resp.StatusCode, "another key while it runs: %s", raw)

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Equal(t, float64(1), jsonOf(t, raw)["redrive_count"])

	unknown := httpapi.ExecutionID("arn:aws:states:us-east-1:123456789012:execution:reply:nothing")
	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, "/v1/executions/"+unknown+"/redrive", "")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", raw)
}
