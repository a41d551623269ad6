package workflow

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
)

func compileFile(t *testing.T, path string) []byte {
	t.Helper()
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	wf, err := Parse(path, src)
	require.NoError(t, err)
	c, err := Check(wf, nil)
	require.NoError(t, err)
	m, err := Compile(c)
	require.NoError(t, err)
	require.Empty(t, asl.Validate(m))
	out, err := m.MarshalIndent()
	require.NoError(t, err)
	return out
}

func TestCompileTriage(t *testing.T) {
	t.Parallel()
	out := compileFile(t, "testdata/triage.yaml")
	t.Log(string(out))
	require.Contains(t, string(out), `"Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken"`)
	require.Contains(t, string(out), `"prompt.$": "States.Format('Classify: {}', $.input.message)"`)
	require.Equal(t, out, compileFile(t, "testdata/triage.yaml"), "compiling twice gives the same bytes")
}
