package enginetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// The Map Run checks follow the guide's Distributed Map pages
// (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html,
// https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html)
// and the DescribeMapRun, ListMapRuns and UpdateMapRun API references.
func init() {
	checks = append(checks, mapRunChecks...)
}

func mapRunsOf(t *testing.T, h Harness) sfn.MapRuns {
	t.Helper()
	m, ok := h.Service.(sfn.MapRuns)
	require.True(t, ok, "the Service (%T) does not implement sfn.MapRuns", h.Service)
	return m
}

// distributedMap is a distributed Map over $.items whose iteration is
// body (a state named Item), with extra fields for the Map state.
func distributedMap(body, extra string) string {
	return `{"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items",` + extra + `
	  "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},
	    "StartAt":"Item","States":{"Item":` + body + `}},"End":true}}}`
}

// mapRunOfExecution returns the ARN of the one Map Run an execution
// started, from its MapRunStarted event.
func (b *bundle) mapRunOfExecution(arn string) string {
	b.t.Helper()
	var runs []string
	for _, e := range b.history(arn, false, 0) {
		if e.Type == "MapRunStarted" {
			require.NotNil(b.t, e.MapRunStarted, "MapRunStarted has its details")
			runs = append(runs, e.MapRunStarted.MapRunARN)
		}
	}
	require.Len(b.t, runs, 1, "Map Runs of %s", arn)
	return runs[0]
}

var mapRunChecks = []check{
	{"DistributedMapIsAMapRun", func(t *testing.T, h Harness) {
		b := setup(t, h)
		m := mapRunsOf(t, h)
		sm, _ := b.createStateMachine("maprun", distributedMap(`{"Type":"Pass","End":true}`, `"MaxConcurrency":2,"ToleratedFailureCount":1,`), "")
		arn := b.start(sm, "one", `{"items":[1,2,3]}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "%s: %s", x.Error, x.Cause)
		require.JSONEq(t, `[1,2,3]`, x.Output)
		types := b.historyTypes(arn)
		require.Contains(t, types, "MapRunStarted")
		require.Contains(t, types, "MapRunSucceeded")
		run := b.mapRunOfExecution(arn)
		require.True(t, strings.Contains(run, ":mapRun:"), run)

		list, err := m.ListMapRuns(b.ctx, sfn.ListMapRunsInput{ExecutionARN: arn})
		require.NoError(t, err)
		require.Len(t, list.MapRuns, 1)
		require.Equal(t, run, list.MapRuns[0].MapRunARN)
		require.Equal(t, arn, list.MapRuns[0].ExecutionARN)
		require.Equal(t, sm, list.MapRuns[0].StateMachineARN)

		d, err := m.DescribeMapRun(b.ctx, run)
		require.NoError(t, err)
		require.Equal(t, sfn.MapRunSucceeded, d.Status)
		require.Equal(t, arn, d.ExecutionARN)
		require.Equal(t, 2, d.MaxConcurrency)
		require.Equal(t, 1, d.ToleratedFailureCount)
		require.Equal(t, 3, d.ItemCounts.Total)
		require.Equal(t, 3, d.ItemCounts.Succeeded)
		require.False(t, d.StopDate.IsZero())

		_, err = m.DescribeMapRun(b.ctx, strings.Replace(run, ":one-1", ":one-9", 1))
		requireAPIError(t, err, sfn.CodeResourceNotFound)
		_, err = m.DescribeMapRun(b.ctx, "arn:aws:states:us-east-1:123456789012:stateMachine:x")
		requireAPIError(t, err, sfn.CodeInvalidArn)
		require.Error(t, m.UpdateMapRun(b.ctx, sfn.UpdateMapRunInput{MapRunARN: run, MaxConcurrency: new(5)}), "a finished Map Run does not change")
	}},
	{"UpdateMapRunWhileItRuns", func(t *testing.T, h Harness) {
		// UpdateMapRun raises the concurrency of a running Map Run (0 is
		// no limit) and its tolerated failures; DescribeMapRun counts the
		// items as they run.
		b := setup(t, h)
		m := mapRunsOf(t, h)
		tokens := b.tokens()
		body := fmt.Sprintf(`{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
		  "Parameters":{"QueueUrl":%q,"MessageBody":{"taskToken.$":"$$.Task.Token"}},"End":true}`, callbackQueue)
		sm, _ := b.createStateMachine("maprun-update", distributedMap(body, `"MaxConcurrency":1,`), "")
		arn := b.start(sm, "one", `{"items":["a","b","c"]}`)
		first := b.receiveToken(tokens)
		run := ""
		require.Eventually(t, func() bool {
			for _, e := range b.history(arn, false, 0) {
				if e.MapRunStarted != nil {
					run = e.MapRunStarted.MapRunARN
				}
			}
			return run != ""
		}, Timeout, pollInterval)
		d, err := m.DescribeMapRun(b.ctx, run)
		require.NoError(t, err)
		require.Equal(t, sfn.MapRunRunning, d.Status)
		require.Equal(t, sfn.MapRunCounts{Running: 1, Pending: 2, Total: 3}, d.ItemCounts)

		require.NoError(t, m.UpdateMapRun(b.ctx, sfn.UpdateMapRunInput{MapRunARN: run, MaxConcurrency: new(0), ToleratedFailureCount: new(1)}))
		second, third := b.receiveToken(tokens), b.receiveToken(tokens)
		d, err = m.DescribeMapRun(b.ctx, run)
		require.NoError(t, err)
		require.Equal(t, 0, d.MaxConcurrency)
		require.Equal(t, 1, d.ToleratedFailureCount)
		require.Equal(t, 3, d.ItemCounts.Running)

		require.NoError(t, h.Service.SendTaskFailure(b.ctx, sfn.SendTaskFailureInput{TaskToken: first, Error: "Item.Failed"}))
		for _, tok := range []string{second, third} {
			require.NoError(t, h.Service.SendTaskSuccess(b.ctx, sfn.SendTaskSuccessInput{TaskToken: tok, Output: `"done"`}))
		}
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusSucceeded, x.Status, "one failure is tolerated now: %s %s", x.Error, x.Cause)
		d, err = m.DescribeMapRun(b.ctx, run)
		require.NoError(t, err)
		require.Equal(t, sfn.MapRunSucceeded, d.Status)
		require.Equal(t, 1, d.ItemCounts.Failed)
		require.Equal(t, 2, d.ItemCounts.Succeeded)
	}},
	{"MapRunFailsOverItsTolerance", func(t *testing.T, h Harness) {
		b := setup(t, h)
		m := mapRunsOf(t, h)
		sm, _ := b.createStateMachine("maprun-fail", distributedMap(`{"Type":"Fail","Error":"Item.Failed"}`, `"ToleratedFailurePercentage":10,`), "")
		arn := b.start(sm, "one", `{"items":[1,2]}`)
		x := b.waitClosed(arn)
		require.Equal(t, sfn.StatusFailed, x.Status)
		require.Equal(t, "States.ExceedToleratedFailureThreshold", x.Error)
		var failed *sfn.FailureDetails
		for _, e := range b.history(arn, false, 0) {
			if e.Type == "MapRunFailed" {
				failed = e.MapRunFailed
			}
		}
		require.NotNil(t, failed, "MapRunFailed with its details")
		require.Equal(t, "States.ExceedToleratedFailureThreshold", failed.Error)
		d, err := m.DescribeMapRun(b.ctx, b.mapRunOfExecution(arn))
		require.NoError(t, err)
		require.Equal(t, sfn.MapRunFailed, d.Status)
		require.InDelta(t, 10.0, d.ToleratedFailurePercentage, 1e-9)
	}},
}
