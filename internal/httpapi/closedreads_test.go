package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
)

// TestGetClosedExecutionAnswersAsBuilt: the answer kept for a closed
// execution is the one built for it (as ?blobs=resolve, which is never
// kept, builds it), and a redrive, which reopens the execution, has it
// built anew.
func TestGetClosedExecutionAnswersAsBuilt(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "hi"}`)
	b.waitPending(t, id)
	path := "/v1/executions/" + id
	get := func(path string) string {
		t.Helper()
		resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, path, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
		return string(raw)
	}

	resp, raw := b.call(t, auth.RoleOperator, http.MethodPost, path+"/stop", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	b.waitClosed(t, id)
	first := get(path)
	require.Equal(t, first, get(path))
	require.Equal(t, get(path+"?blobs=resolve"), get(path))
	require.Equal(t, "ABORTED", jsonOf(t, []byte(first))["status"])

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path+"/redrive", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	running := jsonOf(t, []byte(get(path)))
	require.Equal(t, "RUNNING", running["status"])
	require.Equal(t, float64(1), running["redrive_count"])

	resp, raw = b.call(t, auth.RoleOperator, http.MethodPost, path+"/stop", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	again := jsonOf(t, []byte(get(path)))
	require.Equal(t, "ABORTED", again["status"])
	require.Equal(t, float64(1), again["redrive_count"])
	require.NotEqual(t, jsonOf(t, []byte(first))["stopped_at"], again["stopped_at"])
	require.Equal(t, get(path+"?blobs=resolve"), get(path))
}
