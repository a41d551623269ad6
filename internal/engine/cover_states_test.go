package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestWaitStateTimes: a Wait takes its time from Seconds, SecondsPath,
// Timestamp or TimestampPath; a time in the past ends it at once, and a
// path that selects something else fails the execution with
// States.Runtime naming the field.
func TestWaitStateTimes(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		wait, input string
		status      sfn.ExecutionStatus
		cause       string
	}{
		"seconds path":          {`"SecondsPath":"$.s"`, `{"s":0}`, sfn.StatusSucceeded, ""},
		"past timestamp":        {`"Timestamp":"2001-02-03T04:05:06Z"`, `{}`, sfn.StatusSucceeded, ""},
		"past timestamp path":   {`"TimestampPath":"$.at"`, `{"at":"2001-02-03T04:05:06Z"}`, sfn.StatusSucceeded, ""},
		"seconds path a string": {`"SecondsPath":"$.s"`, `{"s":"x"}`, sfn.StatusFailed, `SecondsPath $.s selects "x", not a non-negative integer`},
		"seconds path negative": {`"SecondsPath":"$.s"`, `{"s":-1}`, sfn.StatusFailed, `SecondsPath $.s selects -1, not a non-negative integer`},
		"seconds path missing":  {`"SecondsPath":"$.s"`, `{}`, sfn.StatusFailed, "SecondsPath: "},
		"timestamp path text":   {`"TimestampPath":"$.at"`, `{"at":"tomorrow"}`, sfn.StatusFailed, `TimestampPath $.at selects "tomorrow", not an RFC 3339 timestamp`},
		"timestamp path number": {`"TimestampPath":"$.at"`, `{"at":1}`, sfn.StatusFailed, "TimestampPath"},
		"timestamp path absent": {`"TimestampPath":"$.at"`, `{}`, sfn.StatusFailed, "TimestampPath: "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{})
			d := b.run(`{"StartAt":"W","States":{"W":{"Type":"Wait",`+tc.wait+`,"End":true}}}`, tc.input)
			require.Equal(t, tc.status, d.Status, d.Cause)
			if tc.status == sfn.StatusSucceeded {
				require.JSONEq(t, tc.input, d.Output, "a Wait passes its input on")
				return
			}
			require.Equal(t, "States.Runtime", d.Error)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

// coverMapOfOddFailures is a Map whose iterations fail for odd items, with the
// map's concurrency and tolerance fields given by the test.
func coverMapOfOddFailures(fields string) string {
	return `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",` + fields + `,
	 "ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"Odd","States":{
	  "Odd":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericEquals":1,"Next":"Boom"}],"Default":"Ok"},
	  "Boom":{"Type":"Fail","Error":"Odd","Cause":"an odd item"},
	  "Ok":{"Type":"Pass","End":true}}},"End":true}}}`
}

// TestMapToleranceAndConcurrencyFromPaths: MaxConcurrencyPath,
// ToleratedFailureCountPath and ToleratedFailurePercentagePath read the
// state's input; within the tolerance the Map succeeds with the failed
// iterations' errors in place of their outputs, past it the Map fails,
// and a path that selects no number fails with States.Runtime.
func TestMapToleranceAndConcurrencyFromPaths(t *testing.T) {
	t.Parallel()
	items := `"items":[{"n":0},{"n":1},{"n":2}]`
	for name, tc := range map[string]struct {
		fields, input string
		status        sfn.ExecutionStatus
		errorName     string
		cause         string
	}{
		"concurrency path":             {`"MaxConcurrencyPath":"$.c","ToleratedFailureCount":1`, `{"c":1,` + items + `}`, sfn.StatusSucceeded, "", ""},
		"concurrency path zero":        {`"MaxConcurrencyPath":"$.c","ToleratedFailureCount":1`, `{"c":0,` + items + `}`, sfn.StatusSucceeded, "", ""},
		"concurrency path negative":    {`"MaxConcurrencyPath":"$.c"`, `{"c":-2,` + items + `}`, sfn.StatusFailed, "States.Runtime", "MaxConcurrencyPath $.c does not select a non-negative integer"},
		"count path within":            {`"ToleratedFailureCountPath":"$.k"`, `{"k":1,` + items + `}`, sfn.StatusSucceeded, "", ""},
		"count path exceeded":          {`"ToleratedFailureCountPath":"$.k"`, `{"k":0,` + items + `}`, sfn.StatusFailed, "States.ExceedToleratedFailureThreshold", ""},
		"count path not a number":      {`"ToleratedFailureCountPath":"$.k"`, `{"k":"one",` + items + `}`, sfn.StatusFailed, "States.Runtime", "ToleratedFailureCountPath $.k does not select a non-negative integer"},
		"percentage path within":       {`"ToleratedFailurePercentagePath":"$.p"`, `{"p":50,` + items + `}`, sfn.StatusSucceeded, "", ""},
		"percentage path fraction":     {`"ToleratedFailurePercentagePath":"$.p"`, `{"p":33.4,` + items + `}`, sfn.StatusSucceeded, "", ""},
		"percentage path exceeded":     {`"ToleratedFailurePercentagePath":"$.p"`, `{"p":10,` + items + `}`, sfn.StatusFailed, "States.ExceedToleratedFailureThreshold", ""},
		"percentage path out of range": {`"ToleratedFailurePercentagePath":"$.p"`, `{"p":150,` + items + `}`, sfn.StatusFailed, "States.Runtime", "ToleratedFailurePercentagePath $.p does not select a number from 0 to 100"},
		"percentage path not a number": {`"ToleratedFailurePercentagePath":"$.p"`, `{"p":"all",` + items + `}`, sfn.StatusFailed, "States.Runtime", "ToleratedFailurePercentagePath $.p does not select a number from 0 to 100"},
		"items are not an array":       {`"ToleratedFailureCount":1`, `{"items":{"n":1}}`, sfn.StatusFailed, "States.Runtime", "are an object, not an array"},
		"items path selects nothing":   {`"ToleratedFailureCount":1`, `{}`, sfn.StatusFailed, "States.Runtime", "ItemsPath $.items"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{})
			d := b.run(coverMapOfOddFailures(tc.fields), tc.input)
			require.Equal(t, tc.status, d.Status, d.Cause)
			if tc.status == sfn.StatusSucceeded {
				require.JSONEq(t, `[{"n":0},{"Error":"Odd","Cause":"an odd item"},{"n":2}]`, d.Output)
				return
			}
			require.Equal(t, tc.errorName, d.Error, d.Cause)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

// TestFailStateErrorAndCauseFromPaths: a Fail state's ErrorPath and
// CausePath read the input or an intrinsic function; one that selects no
// string fails the execution with States.Runtime instead.
func TestFailStateErrorAndCauseFromPaths(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		fields, input string
		errorName     string
		cause         string
	}{
		"paths":              {`"ErrorPath":"$.e","CausePath":"$.c"`, `{"e":"Custom.Error","c":"because"}`, "Custom.Error", "because"},
		"intrinsics":         {`"ErrorPath":"States.Format('Code.{}', $.n)","CausePath":"States.Format('item {} failed', $.n)"`, `{"n":7}`, "Code.7", "item 7 failed"},
		"error not a string": {`"ErrorPath":"$.e","Cause":"c"`, `{"e":42}`, "States.Runtime", "ErrorPath $.e selects a"},
		"cause not a string": {`"Error":"E","CausePath":"$.c"`, `{"c":{"x":1}}`, "States.Runtime", "CausePath $.c selects a"},
		"error path missing": {`"ErrorPath":"$.e"`, `{}`, "States.Runtime", ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{})
			d := b.run(`{"StartAt":"F","States":{"F":{"Type":"Fail",`+tc.fields+`}}}`, tc.input)
			require.Equal(t, sfn.StatusFailed, d.Status)
			require.Equal(t, tc.errorName, d.Error, d.Cause)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

// TestFailedBranchAbortsItsSiblings: when one branch of a Parallel fails,
// the branches still running (here a long Wait, and a Map waiting in its
// iterations) are aborted and the execution fails at once with the
// branch's error.
func TestFailedBranchAbortsItsSiblings(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	def := `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[
	  {"StartAt":"Sleep","States":{"Sleep":{"Type":"Wait","Seconds":3600,"End":true}}},
	  {"StartAt":"Each","States":{"Each":{"Type":"Map","ItemsPath":"$.items",
	    "ItemProcessor":{"StartAt":"Hold","States":{"Hold":{"Type":"Wait","Seconds":3600,"End":true}}},"End":true}}},
	  {"StartAt":"Later","States":{"Later":{"Type":"Wait","Seconds":0,"Next":"Boom"},"Boom":{"Type":"Fail","Error":"Branch.Failed","Cause":"the third branch"}}}
	],"End":true}}}`
	start := time.Now()
	d := b.run(def, `{"items":[1,2]}`)
	require.Equal(t, sfn.StatusFailed, d.Status)
	require.Equal(t, "Branch.Failed", d.Error)
	require.Equal(t, "the third branch", d.Cause)
	require.Less(t, time.Since(start), time.Minute, "the hour-long waits were aborted")
	require.Contains(t, b.events(d.ExecutionARN), "ParallelStateFailed")
}

// TestStateFieldsThatFailAtRunTime: input processing, a Choice over a
// missing variable, a Pass whose Result is used, and a resource the local
// engine does not run: each fails the execution with the error Step
// Functions gives.
func TestStateFieldsThatFailAtRunTime(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		def, input string
		errorName  string
		cause      string
	}{
		"input path":           {`{"StartAt":"A","States":{"A":{"Type":"Pass","InputPath":"$.missing","End":true}}}`, `{}`, "States.Runtime", ""},
		"result path":          {`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":1,"ResultPath":"$.a.b","End":true}}}`, `{"a":"text"}`, "States.ResultPathMatchFailure", ""},
		"output path":          {`{"StartAt":"A","States":{"A":{"Type":"Pass","OutputPath":"$.missing","End":true}}}`, `{}`, "States.Runtime", ""},
		"choice variable":      {`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"D"}],"Default":"D"},"D":{"Type":"Succeed"}}}`, `{}`, "States.Runtime", ""},
		"choice no match":      {`{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":1,"Next":"D"}]},"D":{"Type":"Succeed"}}}`, `{"x":2}`, "States.Runtime", "States.NoChoiceMatched: no Choice rule matched"},
		"parameters":           {`{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"v.$":"$.missing"},"End":true}}}`, `{}`, "States.Runtime", ""},
		"unsupported resource": {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","End":true}}}`, `{}`, "States.Runtime", "is not supported by the local engine"},
		"timeout path":         {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"F"},"TimeoutSecondsPath":"$.t","End":true}}}`, `{"t":"soon"}`, "States.Runtime", `TimeoutSecondsPath $.t selects "soon", not a positive integer`},
		"heartbeat path":       {`{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"F"},"HeartbeatSecondsPath":"$.h","TimeoutSeconds":60,"End":true}}}`, `{}`, "States.Runtime", "HeartbeatSecondsPath"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := coverSetup(t, engine.Config{})
			d := b.run(tc.def, tc.input)
			require.Equal(t, sfn.StatusFailed, d.Status, d.Output)
			require.Equal(t, tc.errorName, d.Error, d.Cause)
			require.Contains(t, d.Cause, tc.cause)
		})
	}
}

// TestVariablesAcrossScopes: a variable assigned before a Map is visible
// to its iterations, which assign their own; after the Map the outer one
// is what it was and the iterations' are gone.
func TestVariablesAcrossScopes(t *testing.T) {
	t.Parallel()
	b := coverSetup(t, engine.Config{})
	def := `{"StartAt":"Set","States":{
	  "Set":{"Type":"Pass","Assign":{"base":10,"name":"outer"},"Next":"Each"},
	  "Each":{"Type":"Map","ItemsPath":"$.items",
	    "ItemProcessor":{"StartAt":"Add","States":{
	      "Add":{"Type":"Pass","Assign":{"mine.$":"$"},"Next":"Out"},
	      "Out":{"Type":"Pass","Parameters":{"base.$":"$base","mine.$":"$mine","name.$":"$name"},"End":true}}},
	    "ResultPath":"$.results","Next":"After"},
	  "After":{"Type":"Pass","Parameters":{"results.$":"$.results","base.$":"$base","name.$":"$name"},"End":true}}}`
	d := b.run(def, `{"items":[1,2]}`)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	require.JSONEq(t, `{"results":[{"base":10,"mine":1,"name":"outer"},{"base":10,"mine":2,"name":"outer"}],"base":10,"name":"outer"}`, d.Output)
}
