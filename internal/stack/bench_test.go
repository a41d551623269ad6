package stack_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/stack"
)

// oneStep is a workflow of one ai step, whose model answers at once.
const oneStep = `name: one-step
description: One ai step, for the latency of a step through its queue, its function and the callback.
input:
  type: object
  required: [text]
  properties:
    text:
      type: string
steps:
  - id: answer
    ai:
      model: anthropic/claude-haiku-4-5
      prompt: "Answer in one word: {{ input.text }}"
`

// BenchmarkOneStepExecution measures one execution of a one-step workflow
// on the stack, start to SUCCEEDED, one at a time: the engine sends the
// task message to the ai steps' queue, the event source mapping invokes
// the aistep bootstrap under the emulator, which answers from its script
// and calls SendTaskSuccess on the stack's Step Functions API. It also
// reports each function's cold start (the runtime's init duration under
// the emulator) from the stack's run.
func BenchmarkOneStepExecution(b *testing.B) {
	// The examples' script, and an answer for the one step.
	examples, err := os.ReadFile(filepath.Join(repoRoot(b), "examples", "scripts", "scripted.yaml"))
	require.NoError(b, err)
	script := filepath.Join(b.TempDir(), "answer.yaml")
	require.NoError(b, os.WriteFile(script, []byte(strings.Replace(string(examples), "turns:\n",
		"turns:\n  - repeat: true\n    match:\n      prompt: \"Answer in one word\"\n    reply:\n      text: Yes.\n", 1)), 0o600))
	bb := setup(b, func(p *stack.Params) { p.Parameters["AiScript"] = script })
	a := bb.api(b)
	a.do(http.MethodPost, "/v1/workflows", "application/yaml", []byte(oneStep), http.StatusCreated, nil)
	ctx := context.Background()
	client := bb.sfn()
	arn := "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-wf-one-step"
	once := func() {
		out, err := client.StartExecution(ctx, &sdksfn.StartExecutionInput{StateMachineArn: aws.String(arn), Input: aws.String(`{"text": "ready?"}`)})
		require.NoError(b, err)
		for {
			d, err := client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
			require.NoError(b, err)
			if d.Status == sfntypes.ExecutionStatusSucceeded {
				return
			}
			require.Equal(b, sfntypes.ExecutionStatusRunning, d.Status, "error %s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
			time.Sleep(time.Millisecond)
		}
	}
	once() // the aistep instance's cold start
	// support-triage's order question, for the mcp step function's and the
	// support server's cold starts.
	triage, err := os.ReadFile(filepath.Join(bb.root, "examples", "mocks", "support-triage.input.json"))
	require.NoError(b, err)
	out, err := client.StartExecution(ctx, &sdksfn.StartExecutionInput{StateMachineArn: aws.String(bb.exampleARN(b, "support-triage")), Input: aws.String(string(triage))})
	require.NoError(b, err)
	require.Eventually(b, func() bool {
		d, err := client.DescribeExecution(ctx, &sdksfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
		require.NoError(b, err)
		return d.Status == sfntypes.ExecutionStatusSucceeded
	}, 2*time.Minute, 10*time.Millisecond)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		once()
	}
	b.StopTimer()
	for _, st := range bb.stack.FunctionStats() {
		if st.ColdStarts > 0 {
			b.ReportMetric(float64(st.InitDuration.Microseconds())/1000, st.LogicalID+"-init-ms")
		}
	}
}
