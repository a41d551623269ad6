package asl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMayReadContext: a state reads the Context Object only through
// a path its own definition spells with "$$" (or escaped), in any field,
// in its branches or its item processor; any other state of the same
// definition may be run without one.
func TestMayReadContext(t *testing.T) {
	t.Parallel()
	sm, err := Parse([]byte(`{
  "StartAt": "Mapping",
  "States": {
    "Mapping": {"Type": "Pass", "Parameters": {"input.$": "$", "steps": {}}, "Next": "Named"},
    "Named": {"Type": "Pass", "Parameters": {"id.$": "$$.Execution.Id"}, "Next": "Escaped"},
    "Escaped": {"Type": "Pass", "Parameters": {"id.$": "\u0024\u0024.Execution.Id"}, "Next": "InputPath"},
    "InputPath": {"Type": "Pass", "InputPath": "$$.Execution.Input", "Next": "Choose"},
    "Choose": {"Type": "Choice", "Choices": [{"Variable": "$$.State.RetryCount", "NumericEquals": 0, "Next": "Branches"}], "Default": "Branches"},
    "Branches": {"Type": "Parallel", "Branches": [{"StartAt": "Inner", "States": {
      "Inner": {"Type": "Pass", "Parameters": {"token.$": "$$.Execution.Name"}, "End": true}}}], "Next": "Plain"},
    "Plain": {"Type": "Parallel", "Branches": [{"StartAt": "Quiet", "States": {
      "Quiet": {"Type": "Pass", "End": true}}}], "Next": "Last"},
    "Last": {"Type": "Pass", "ResultPath": "$.steps.last", "End": true}
  }
}`))
	require.NoError(t, err)
	want := map[string]bool{
		"Mapping": false, "Named": true, "Escaped": true, "InputPath": true, "Choose": true,
		"Branches": true, "Plain": false, "Last": false,
	}
	for name, may := range want {
		st := sm.States[name]
		require.NotNil(t, st, name)
		require.Equal(t, may, MayReadContext(st), name)
		require.Equal(t, may, MayReadContext(st), "%s, remembered", name)
	}
	require.True(t, MayReadContext(sm.States["Branches"].Branches[0].States["Inner"]))
	require.False(t, MayReadContext(sm.States["Plain"].Branches[0].States["Quiet"]))
}
