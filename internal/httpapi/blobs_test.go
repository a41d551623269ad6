package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/blob"
)

const largeWorkflow = `name: longdoc
input: {type: object}
steps:
  - id: draft
    large: true
    ai: {model: scripted/test, system: Write the document., prompt: go}
    timeout: 1m
  - id: summarize
    ai: {model: scripted/test, system: Summarize the document., prompt: "{{ steps.draft.output }}"}
    timeout: 1m
output:
  document: "{{ steps.draft.output }}"
  summary: "{{ steps.summarize.output }}"
`

// longDocument is about n bytes of text, from START to END-OF-DOCUMENT.
func longDocument(n int) string {
	var b strings.Builder
	b.WriteString("START ")
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "paragraph %d: caf\u00e9 \"quoted\" <b>&</b>\n", i)
	}
	b.WriteString("END-OF-DOCUMENT")
	return b.String()
}

// TestLargeResultsThroughTheAPI: a 1 MiB step result goes to the blob
// store (PostgreSQL), reaches the next step whole, and comes out of the
// API intact; ?blobs=reference shows the reference instead. The engine
// keeps its executions in PostgreSQL, as aiflow dev's does.
func TestLargeResultsThroughTheAPI(t *testing.T) {
	t.Parallel()
	doc := longDocument(1 << 20)
	text, err := json.Marshal(doc)
	require.NoError(t, err)
	// The summary is only given to a prompt that ends the document: the
	// next step saw all of it.
	script := `turns:
  - repeat: true
    match: {system: Write the document.}
    reply: {text: ` + string(text) + `}
  - repeat: true
    match: {system: Summarize the document., prompt: END-OF-DOCUMENT}
    reply: {text: a summary}
`
	b := setupAPI(t, bundleOptions{script: script, pgBlobs: true, durable: true})
	b.publish(t, largeWorkflow)
	id := b.start(t, "longdoc", `{}`)
	got := b.waitClosed(t, id)

	require.Equal(t, "SUCCEEDED", got["status"], "%v", got["cause"])
	out := got["output"].(map[string]any)
	require.Equal(t, "a summary", out["summary"])
	require.Equal(t, doc, out["document"], "the document comes out intact")

	var n int
	require.NoError(t, b.pool.QueryRow(t.Context(), `SELECT count(*) FROM eventstore.blobs`).Scan(&n))
	require.Equal(t, 1, n)

	resp, raw := b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"?blobs=reference", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	var refView struct {
		Output struct {
			Document json.RawMessage `json:"document"`
		} `json:"output"`
	}
	require.NoError(t, json.Unmarshal(raw, &refView))
	ref, ok, err := blob.ParseReference(refView.Output.Document)
	require.NoError(t, err)
	require.True(t, ok, "%s", refView.Output.Document)
	require.Equal(t, blob.ContentType, ref.ContentType)
	require.True(t, strings.HasPrefix(ref.URI, blob.LocalScheme))

	// The history's step outputs are resolved too.
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"/events?limit=100", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), "END-OF-DOCUMENT")
	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"/events?limit=100&blobs=reference", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", raw)
	require.NotContains(t, string(raw), "END-OF-DOCUMENT")
	require.Contains(t, string(raw), blob.Member)

	resp, raw = b.call(t, auth.RoleViewer, http.MethodGet, "/v1/executions/"+id+"?blobs=maybe", "")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), "query:blobs")
}
