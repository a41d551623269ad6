package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRunPassesLargeResultsByReference: the 1 MiB result of a large step
// is kept in memory, reaches the next step whole (the script answers the
// summary only to a prompt that ends the document) and is printed whole
// in the execution's output.
func TestRunPassesLargeResultsByReference(t *testing.T) {
	t.Parallel()
	var doc strings.Builder
	doc.WriteString("START ")
	for i := 0; doc.Len() < 1<<20; i++ {
		fmt.Fprintf(&doc, "paragraph %d: caf\u00e9 \"quoted\" <b>&</b>\n", i)
	}
	doc.WriteString("END-OF-DOCUMENT")
	text, err := json.Marshal(doc.String())
	require.NoError(t, err)
	script := writeFile(t, "script.yaml", `turns:
  - repeat: true
    match: {system: Write the document.}
    reply: {text: `+string(text)+`}
  - repeat: true
    match: {system: Summarize the document., prompt: END-OF-DOCUMENT}
    reply: {text: a summary}
`)
	wf := writeFile(t, "longdoc.yaml", `name: longdoc
input: {type: object}
steps:
  - id: draft
    large: true
    ai: {model: scripted/test, system: Write the document., prompt: go}
  - id: summarize
    ai: {model: scripted/test, system: Summarize the document., prompt: "{{ steps.draft.output }}"}
output:
  document: "{{ steps.draft.output }}"
  summary: "{{ steps.summarize.output }}"
`)
	code, stdout, stderr := runCmd(t, wf, "--script", script)
	require.Equal(t, 0, code, stderr)
	var out struct{ Document, Summary string }
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Equal(t, "a summary", out.Summary)
	require.Equal(t, doc.String(), out.Document)
}
