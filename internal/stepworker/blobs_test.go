package stepworker_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// TestAIStepWorkerKeepsLargeResultsInPostgreSQL: a worker built from
// AIFLOW_BLOB_STORE=postgres stores a large step's 300 KiB result in
// eventstore.blobs, the state machine carries the reference, and the next
// step's prompt is the value.
func TestAIStepWorkerKeepsLargeResultsInPostgreSQL(t *testing.T) {
	t.Parallel()
	doc := "START " + strings.Repeat("lorem ipsum ", 300<<10/12) + "END-OF-DOCUMENT"
	text, err := json.Marshal(doc)
	require.NoError(t, err)
	db := pgclustertest.Database(t)
	d := runAIStep(t, aiStepRun{
		workflow: `name: longdoc
input: {type: object}
steps:
  - id: draft
    large: true
    ai: {model: scripted/writer, prompt: write}
    timeout: 1m
  - id: summarize
    ai: {model: scripted/summarizer, prompt: "{{ steps.draft.output }}"}
    timeout: 1m
output:
  document: "{{ steps.draft.output }}"
  summary: "{{ steps.summarize.output }}"
`,
		script: `turns:
  - repeat: true
    match: {prompt: write}
    reply: {text: ` + string(text) + `}
  - repeat: true
    match: {prompt: END-OF-DOCUMENT}
    reply: {text: a summary}
`,
		input: `{}`,
		vars:  map[string]string{"AIFLOW_BLOB_STORE": "postgres", "DATABASE_URL": db},
	})
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	var out struct {
		Document json.RawMessage `json:"document"`
		Summary  string          `json:"summary"`
	}
	require.NoError(t, json.Unmarshal([]byte(d.Output), &out))
	require.Equal(t, "a summary", out.Summary, "the next step read the whole document")
	ref, ok, err := blob.ParseReference(out.Document)
	require.NoError(t, err)
	require.True(t, ok, "the state machine holds a reference: %.200s", out.Document)

	conn, err := pgx.Connect(context.Background(), db)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var body []byte
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT body FROM eventstore.blobs WHERE key = $1`, strings.TrimPrefix(ref.URI, blob.LocalScheme)).Scan(&body))
	var stored string
	require.NoError(t, json.Unmarshal(body, &stored))
	require.Equal(t, doc, stored)
}
