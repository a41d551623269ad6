package engine

import (
	"reflect"

	"github.com/aiflow/aiflow/internal/sfn"
)

// This file holds the written-out parts of freezeBatch's work for the
// batches most transitions make: which detail field of an event is set,
// and the bound of a batch and its threads. Each stands for a reflective
// walk that read every field of every batch (boundValue), and falls back
// to it for what it does not write out; the package's tests hold the two
// equal on every batch the engine freezes (checkFrozenBatches) and on
// threads with every field set (TestBoundThreadIsBoundValue).

// rare reports whether b has one of the parts few transitions write: a
// Parallel or Map state's fan-out and ends, halts, a redrive, Map Runs.
func (b *batch) rare() bool {
	return b.Spawn != nil || b.Ended != nil || b.Halted != nil || b.Redrive != nil || b.MapRuns != nil
}

// boundBatch is boundValue of a batch with its events left out (nil).
func boundBatch(b *batch) (int, bool) {
	if b.rare() {
		c := *b
		c.Events = nil
		return boundValue(reflect.ValueOf(&c))
	}
	// Events, Spawn, Ended, Halted, Redrive and MapRuns: null each.
	n := 2 + batchKeys + 6*4
	if s := b.Start; s == nil {
		n += 4
	} else {
		n += 2 + startKeys + boundString(len(s.Definition)) + boundString(len(s.Revision)) + boundString(len(s.RoleARN))
	}
	if b.Threads == nil {
		n += 4
	} else {
		n += 2
		for _, t := range b.Threads {
			m := 4
			if t != nil {
				var ok bool
				if m, ok = boundThreadFast(t); !ok {
					return 0, false
				}
			}
			n += 22 + 1 + m + 1 // a quoted integer key
		}
	}
	return n + boundStrings(b.Succeeded) + boundStrings(b.Spent), true
}

// boundStrings is boundValue of a []string.
func boundStrings(s []string) int {
	if s == nil {
		return 4
	}
	n := 2
	for _, e := range s {
		n += boundString(len(e)) + 1
	}
	return n
}

// boundThreadFast is boundThread, written out for a thread outside
// Parallel and Map states and without variables.
func boundThreadFast(t *thread) (int, bool) {
	if t.Scope != nil || t.Vars != nil || t.Outer != nil || t.Effective != nil {
		return boundThread(t)
	}
	s := boundString
	// ID, Parent, Index, Gen, RetryCount, LastEvent, EnteredEvent and
	// MaxConc are integers; Entered and Due times; Scope, Vars, Outer and
	// Effective null.
	n := 2 + threadKeys + 8*20 + 2*64 + 4*4 + s(len(t.State)) + s(len(t.Phase)) + s(len(t.Token)) + s(len(t.MapRun))
	if t.Retries == nil {
		n += 4
	} else {
		n += 2 + 21*len(t.Retries)
	}
	if c := t.Task; c == nil {
		n += 4
	} else {
		// Wait a bool, TimeoutDue a time, HeartbeatSeconds an integer.
		m, ok := boundWith(c.Params, c.paramsJSON)
		if !ok {
			return 0, false
		}
		n += 2 + callKeys + 5 + 64 + 20 + s(len(c.Kind)) + s(len(c.Resource)) + len("params") + 4 + m + 2
	}
	m, ok := boundWith(t.Input, t.inputJSON)
	return n + len("input") + 4 + m + 2, ok
}

// batchKeys, startKeys, threadKeys and callKeys are the bytes the keys
// of those structs' fields take in boundStruct's reckoning, without the
// fields boundThread and boundCall write apart (a thread's Input, a
// call's Params).
var (
	batchKeys  = keyBytesBut(reflect.TypeFor[batch](), -1)
	startKeys  = keyBytesBut(reflect.TypeFor[batchStart](), -1)
	threadKeys = keyBytesBut(threadType, inputField)
	callKeys   = keyBytesBut(callType, paramsField)
)

func keyBytesBut(t reflect.Type, skip int) int {
	n := 0
	for _, f := range planOf(t).fields {
		if f.index != skip {
			n += f.key
		}
	}
	return n
}

// detailIndex returns how many detail fields of ev are set and the index
// in eventDetails of the last of them: the checks of eventDetails' reads,
// written out (TestDetailIndexIsEventDetails).
func detailIndex(ev *sfn.HistoryEvent) (n, at int) {
	at = -1
	if ev.ExecutionStarted != nil {
		n, at = n+1, 0
	}
	if ev.ExecutionSucceeded != nil {
		n, at = n+1, 1
	}
	if ev.ExecutionFailed != nil {
		n, at = n+1, 2
	}
	if ev.ExecutionAborted != nil {
		n, at = n+1, 3
	}
	if ev.ExecutionTimedOut != nil {
		n, at = n+1, 4
	}
	if ev.ExecutionRedriven != nil {
		n, at = n+1, 5
	}
	if ev.StateEntered != nil {
		n, at = n+1, 6
	}
	if ev.StateExited != nil {
		n, at = n+1, 7
	}
	if ev.TaskScheduled != nil {
		n, at = n+1, 8
	}
	if ev.TaskStarted != nil {
		n, at = n+1, 9
	}
	if ev.TaskSubmitted != nil {
		n, at = n+1, 10
	}
	if ev.TaskSucceeded != nil {
		n, at = n+1, 11
	}
	if ev.TaskFailed != nil {
		n, at = n+1, 12
	}
	if ev.TaskTimedOut != nil {
		n, at = n+1, 13
	}
	if ev.LambdaFunctionScheduled != nil {
		n, at = n+1, 14
	}
	if ev.LambdaFunctionSucceeded != nil {
		n, at = n+1, 15
	}
	if ev.LambdaFunctionFailed != nil {
		n, at = n+1, 16
	}
	if ev.LambdaFunctionTimedOut != nil {
		n, at = n+1, 17
	}
	if ev.ActivityScheduled != nil {
		n, at = n+1, 18
	}
	if ev.ActivityStarted != nil {
		n, at = n+1, 19
	}
	if ev.ActivitySucceeded != nil {
		n, at = n+1, 20
	}
	if ev.ActivityFailed != nil {
		n, at = n+1, 21
	}
	if ev.ActivityTimedOut != nil {
		n, at = n+1, 22
	}
	if ev.ActivityScheduleFailed != nil {
		n, at = n+1, 23
	}
	if ev.MapRunStarted != nil {
		n, at = n+1, 24
	}
	if ev.MapRunFailed != nil {
		n, at = n+1, 25
	}
	if ev.MapStateStarted != nil {
		n, at = n+1, 26
	}
	if ev.MapIterationStarted != nil {
		n, at = n+1, 27
	}
	if ev.MapIterationSucceed != nil {
		n, at = n+1, 28
	}
	if ev.MapIterationFailed != nil {
		n, at = n+1, 29
	}
	if ev.MapIterationAborted != nil {
		n, at = n+1, 30
	}
	return n, at
}
