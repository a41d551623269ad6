package stack_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/stack"
)

// TestStackPassesLargeResultsThroughS3 runs a workflow whose large step
// makes a 1 MiB result through the deployed shape: the aistep binary
// stores it in the template's blob bucket on the stack's S3 API and
// passes a reference, the next step (the aistep binary again) reads it
// back whole (the script answers only a prompt that ends the document),
// and the API function shows the execution's output with the value read
// from the bucket.
func TestStackPassesLargeResultsThroughS3(t *testing.T) {
	t.Parallel()
	var doc strings.Builder
	doc.WriteString("START ")
	for i := 0; doc.Len() < 1<<20; i++ {
		fmt.Fprintf(&doc, "paragraph %d: caf\u00e9 \"quoted\" <b>&</b>\n", i)
	}
	doc.WriteString("END-OF-DOCUMENT")
	text, err := json.Marshal(doc.String())
	require.NoError(t, err)
	script := filepath.Join(t.TempDir(), "script.yaml")
	require.NoError(t, os.WriteFile(script, []byte(`turns:
  - repeat: true
    match: {system: Write the document.}
    reply: {text: `+string(text)+`}
  - repeat: true
    match: {system: Summarize the document., prompt: END-OF-DOCUMENT}
    reply: {text: a summary}
`), 0o600))
	b := setup(t, func(p *stack.Params) { p.Parameters["AiScript"] = script })
	a := b.api(t)
	a.do(http.MethodPost, "/v1/workflows", "application/yaml", []byte(`name: longdoc
input: {type: object}
steps:
  - id: draft
    large: true
    ai: {model: scripted/writer, system: Write the document., prompt: go}
  - id: summarize
    ai: {model: scripted/summarizer, system: Summarize the document., prompt: "{{ steps.draft.output }}"}
output:
  document: "{{ steps.draft.output }}"
  summary: "{{ steps.summarize.output }}"
`), http.StatusCreated, nil)
	e := a.wait(a.start("longdoc", []byte(`{}`)))
	require.Equal(t, "SUCCEEDED", e.Status, "error: %v", e.Error)
	var got struct {
		Output struct{ Document, Summary string } `json:"output"`
	}
	a.do(http.MethodGet, "/v1/executions/"+e.ID, "", nil, http.StatusOK, &got)
	require.Equal(t, "a summary", got.Output.Summary)
	require.Equal(t, doc.String(), got.Output.Document)

	objects, err := filepath.Glob(filepath.Join(b.dataDir, "s3", "*", "*"))
	require.NoError(t, err)
	require.Len(t, objects, 1, "the result is one object of the bucket")
}
