package engine_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestContextObjectWhole: "$$" selected whole, by JSONPath and by JSONata,
// is the Context Object with its members in the order of their keys, at
// every level, as Step Functions shows it; inside a Map's item selector it
// holds the item.
func TestContextObjectWhole(t *testing.T) {
	t.Parallel()
	e := startEngine(t, engine.Config{Store: engine.NewMemoryStore()})
	arn := createMachine(t, e, sfn.TypeStandard, `{"StartAt":"P","States":{
		"P":{"Type":"Pass","Parameters":{"c.$":"$$"},"Next":"J"},
		"J":{"Type":"Pass","QueryLanguage":"JSONata","Output":{"c":"{% $states.context %}","p":"{% $states.input.c.State.Name %}"},"Next":"M"},
		"M":{"Type":"Map","ItemsPath":"$.c.Execution.Input.list","ResultSelector":{"items.$":"$"},"OutputPath":"$.items","ItemSelector":{"m.$":"$$.Map"},"ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}`)
	x, err := e.StartExecution(t.Context(), sfn.StartExecutionInput{StateMachineARN: arn, Name: "ctx-1", Input: `{"a":1,"list":["x"]}`})
	require.NoError(t, err)
	require.NoError(t, e.Wait(t.Context(), x.ExecutionARN))
	d, err := e.DescribeExecution(t.Context(), x.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Cause)
	require.JSONEq(t, `[{"m":{"Item":{"Index":0,"Value":"x"}}}]`, d.Output)

	h, err := e.GetExecutionHistory(t.Context(), sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN, MaxResults: 100})
	require.NoError(t, err)
	var outputs []string
	for _, ev := range h.Events {
		if ev.StateExited != nil {
			outputs = append(outputs, ev.StateExited.Output)
		}
	}
	require.GreaterOrEqual(t, len(outputs), 2)
	times := regexp.MustCompile(`"(EnteredTime|StartTime)":"[^"]+"`)
	want := `{"c":{"Execution":{"Id":"` + x.ExecutionARN + `","Input":{"a":1,"list":["x"]},"Name":"ctx-1","RedriveCount":0,"RoleArn":"` +
		`ROLE","StartTime":"T"},"State":{"EnteredTime":"T","Name":"P","RetryCount":0},"StateMachine":{"Id":"` + arn + `","Name":"standard-machine"}}}`
	got := times.ReplaceAllString(outputs[0], `"$1":"T"`)
	got = regexp.MustCompile(`"RoleArn":"[^"]*"`).ReplaceAllString(got, `"RoleArn":"ROLE"`)
	require.Equal(t, want, got)
	require.Equal(t, `[{"m":{"Item":{"Index":0,"Value":"x"}}}]`, d.Output, "the Map's part, in the order of its keys")
	require.Contains(t, outputs[1], `"p":"P"`)
	require.Contains(t, times.ReplaceAllString(outputs[1], `"$1":"T"`), `"State":{"EnteredTime":"T","Name":"J","RetryCount":0}`)
}
