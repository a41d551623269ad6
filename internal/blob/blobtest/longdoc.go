package blobtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// LongDoc is the large-result workflow the tests of `aiflow run` and the
// stack run: a large step writes a document of over 1 MiB (quotes, HTML
// and a non-ASCII letter in it, which JSON escapes), and the next step is
// answered only when its prompt ends the document, so only a result that
// reaches it whole lets the execution succeed.
type LongDoc struct {
	// Document is the document; the execution's output holds it whole.
	Document string
	// Script is the scripted provider's turns that write and summarize
	// it ("a summary").
	Script string
}

// NewLongDoc makes the document and its script.
func NewLongDoc(t testing.TB) LongDoc {
	t.Helper()
	var doc strings.Builder
	doc.WriteString("START ")
	for i := 0; doc.Len() < 1<<20; i++ {
		fmt.Fprintf(&doc, "paragraph %d: caf\u00e9 \"quoted\" <b>&</b>\n", i)
	}
	doc.WriteString("END-OF-DOCUMENT")
	text, err := json.Marshal(doc.String())
	require.NoError(t, err)
	return LongDoc{Document: doc.String(), Script: `turns:
  - repeat: true
    match: {system: Write the document.}
    reply: {text: ` + string(text) + `}
  - repeat: true
    match: {system: Summarize the document., prompt: END-OF-DOCUMENT}
    reply: {text: a summary}
`}
}

// Workflow is the workflow "longdoc", its steps on the models writer and
// summarizer (scripted ones); its output is the document and the summary.
func (LongDoc) Workflow(writer, summarizer string) string {
	return `name: longdoc
input: {type: object}
steps:
  - id: draft
    large: true
    ai: {model: ` + writer + `, system: Write the document., prompt: go}
  - id: summarize
    ai: {model: ` + summarizer + `, system: Summarize the document., prompt: "{{ steps.draft.output }}"}
output:
  document: "{{ steps.draft.output }}"
  summary: "{{ steps.summarize.output }}"
`
}
