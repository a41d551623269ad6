package workflow_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/workflow"
)

func TestBuild(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("testdata/triage.yaml")
	require.NoError(t, err)
	b, err := workflow.Build("testdata/triage.yaml", src, nil)
	require.NoError(t, err)
	require.Equal(t, "support-triage", b.Checked.Workflow.Name)
	raw, err := b.Machine.MarshalIndent()
	require.NoError(t, err)
	require.Equal(t, string(raw), b.ASL, "the text is the machine's, indented")
	require.Equal(t, workflow.Mermaid(b.Checked), b.Graph)
	require.Contains(t, b.ASL, workflow.AIQueueSubstitution, "substitutions are left in")

	_, err = workflow.Build("bad.yaml", []byte("name: bad\nsteps: []\nnope: 1\n"), nil)
	var diags workflow.Diagnostics
	require.ErrorAs(t, err, &diags, "a definition's mistakes are the checker's diagnostics")
	require.True(t, strings.HasPrefix(err.Error(), "bad.yaml:"), err.Error())
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	inner := errors.New("no")
	ce := &workflow.CompileError{File: "a.yaml", Err: inner}
	require.Equal(t, "no", ce.Error())
	require.ErrorIs(t, ce, inner)

	ie := &workflow.InvalidMachineError{File: "triage.yaml"}
	ie.Problems = append(ie.Problems, asl.ValidationError{Path: "States.X", Message: "is wrong"})
	require.Equal(t, "the compiler made an invalid state machine of triage.yaml (a bug; please report it): States.X: is wrong", ie.Error())
}

func TestSubstituteQueues(t *testing.T) {
	t.Parallel()
	def := `{"a": "` + workflow.AIQueueSubstitution + `", "b": "` + workflow.ApprovalQueueSubstitution + `", "c": "` + workflow.AIQueueSubstitution + `"}`
	got, err := workflow.SubstituteQueues(def, map[string]string{
		workflow.AIQueueSubstitution: "https://q/ai", workflow.ApprovalQueueSubstitution: "https://q/approvals",
	})
	require.NoError(t, err)
	require.Equal(t, `{"a": "https://q/ai", "b": "https://q/approvals", "c": "https://q/ai"}`, got)

	_, err = workflow.SubstituteQueues(def, map[string]string{workflow.AIQueueSubstitution: "https://q/ai"})
	var me *workflow.MissingQueueError
	require.ErrorAs(t, err, &me)
	require.Equal(t, workflow.ApprovalQueueSubstitution, me.Substitution)
	require.Equal(t, "this deployment has no queue for the steps that send to ${ApprovalQueueUrl}", err.Error())

	got, err = workflow.SubstituteQueues(`{}`, nil)
	require.NoError(t, err)
	require.Equal(t, `{}`, got, "a machine without task steps needs no queue")
	require.Len(t, workflow.QueueSubstitutions, 4)
}

func ExampleSubstituteQueues() {
	definition := `{"QueueUrl": "` + workflow.AIQueueSubstitution + `"}`
	filled, err := workflow.SubstituteQueues(definition, map[string]string{
		workflow.AIQueueSubstitution: "https://sqs.us-east-1.amazonaws.com/123456789012/ai-steps",
	})
	fmt.Println(filled, err)
	_, err = workflow.SubstituteQueues(`{"QueueUrl": "`+workflow.MCPQueueSubstitution+`"}`, nil)
	fmt.Println(err)
	// Output:
	// {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/ai-steps"} <nil>
	// this deployment has no queue for the steps that send to ${McpStepQueueUrl}
}
