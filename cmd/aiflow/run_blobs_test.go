package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob/blobtest"
)

// TestRunPassesLargeResultsByReference: the 1 MiB result of a large step
// is kept in memory, reaches the next step whole (the script answers the
// summary only to a prompt that ends the document) and is printed whole
// in the execution's output.
func TestRunPassesLargeResultsByReference(t *testing.T) {
	t.Parallel()
	long := blobtest.NewLongDoc(t)
	script := writeFile(t, "script.yaml", long.Script)
	wf := writeFile(t, "longdoc.yaml", long.Workflow("scripted/test", "scripted/test"))
	code, stdout, stderr := runCmd(t, wf, "--script", script)
	require.Equal(t, 0, code, stderr)
	var out struct{ Document, Summary string }
	require.NoError(t, json.Unmarshal([]byte(stdout), &out))
	require.Equal(t, "a summary", out.Summary)
	require.Equal(t, long.Document, out.Document)
}
