package stack_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob/blobtest"
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
	long := blobtest.NewLongDoc(t)
	script := filepath.Join(t.TempDir(), "script.yaml")
	require.NoError(t, os.WriteFile(script, []byte(long.Script), 0o600))
	b := setup(t, func(p *stack.Params) { p.Parameters["AiScript"] = script })
	a := b.api(t)
	a.do(http.MethodPost, "/v1/workflows", "application/yaml", []byte(long.Workflow("scripted/writer", "scripted/summarizer")), http.StatusCreated, nil)
	e := a.wait(a.start("longdoc", []byte(`{}`)))
	require.Equal(t, "SUCCEEDED", e.Status, "error: %v", e.Error)
	var got struct {
		Output struct{ Document, Summary string } `json:"output"`
	}
	a.do(http.MethodGet, "/v1/executions/"+e.ID, "", nil, http.StatusOK, &got)
	require.Equal(t, "a summary", got.Output.Summary)
	require.Equal(t, long.Document, got.Output.Document)

	objects, err := filepath.Glob(filepath.Join(b.dataDir, "s3", "*", "*"))
	require.NoError(t, err)
	require.Len(t, objects, 1, "the result is one object of the bucket")
}
