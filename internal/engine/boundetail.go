package engine

import (
	"reflect"

	"github.com/aiflow/aiflow/internal/sfn"
)

// boundDetail is boundValue of a history event's detail (a pointer to one
// of sfn's detail structs), written out for the details most events carry,
// whose fields are strings and integers: the reflective walk read every
// field of every event again (TestBoundDetailIsBoundValue holds the two
// equal).
func boundDetail(d any) (int, bool) {
	s := boundString
	switch d := d.(type) {
	case *sfn.OutputDetails:
		return 2 + detailKeys.output + s(len(d.Output)), true
	case *sfn.FailureDetails:
		return 2 + detailKeys.failure + s(len(d.Error)) + s(len(d.Cause)), true
	case *sfn.StateEnteredDetails:
		return 2 + detailKeys.entered + s(len(d.Name)) + s(len(d.Input)), true
	case *sfn.StateExitedDetails:
		if d.AssignedVariables == nil {
			return 2 + detailKeys.exited + s(len(d.Name)) + s(len(d.Output)) + 4, true
		}
	case *sfn.TaskScheduledDetails:
		return 2 + detailKeys.scheduled + s(len(d.ResourceType)) + s(len(d.Resource)) + s(len(d.Region)) + s(len(d.Parameters)) + 20 + 20, true
	case *sfn.TaskDetails:
		return 2 + detailKeys.task + s(len(d.ResourceType)) + s(len(d.Resource)), true
	case *sfn.TaskOutputDetails:
		return 2 + detailKeys.taskOutput + s(len(d.ResourceType)) + s(len(d.Resource)) + s(len(d.Output)), true
	case *sfn.TaskFailureDetails:
		return 2 + detailKeys.taskFailure + s(len(d.ResourceType)) + s(len(d.Resource)) + s(len(d.Error)) + s(len(d.Cause)), true
	case *sfn.ExecutionStartedDetails:
		return 2 + detailKeys.started + s(len(d.Input)) + s(len(d.RoleARN)) + s(len(d.StateMachineARN)) +
			s(len(d.StateMachineVersionARN)) + s(len(d.StateMachineAliasARN)), true
	}
	return boundValue(reflect.ValueOf(d))
}

// detailKeys are the bytes the keys of each detail struct's fields take
// in boundStruct's reckoning.
var detailKeys = struct {
	output, failure, entered, exited, scheduled, task, taskOutput, taskFailure, started int
}{
	output:      keyBytes[sfn.OutputDetails](),
	failure:     keyBytes[sfn.FailureDetails](),
	entered:     keyBytes[sfn.StateEnteredDetails](),
	exited:      keyBytes[sfn.StateExitedDetails](),
	scheduled:   keyBytes[sfn.TaskScheduledDetails](),
	task:        keyBytes[sfn.TaskDetails](),
	taskOutput:  keyBytes[sfn.TaskOutputDetails](),
	taskFailure: keyBytes[sfn.TaskFailureDetails](),
	started:     keyBytes[sfn.ExecutionStartedDetails](),
}

// keyBytes is the sum of the key bytes of the fields of T that
// boundStruct counts.
func keyBytes[T any]() int {
	n := 0
	for _, f := range planOf(reflect.TypeFor[T]()).fields {
		n += f.key
	}
	return n
}
