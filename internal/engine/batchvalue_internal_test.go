package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/sfn"
)

// checkFrozenBatches records every batch the engine hands a MemoryStore
// as a value (see BatchKeeper); its result checks, after the tests, when
// their executions have long moved on, that each still encodes to the
// bytes it encoded to at its transition, and that those do not exceed the
// bound the engine checked MaxBatchBytes with.
func checkFrozenBatches() func() bool {
	var mu sync.Mutex
	type frozen struct {
		data  json.RawMessage
		b     *Batch
		bound int
	}
	var all []frozen
	var unequal []string // boundBatch against the reflective boundValue
	frozenCheck = func(data json.RawMessage, b *Batch, bound int) {
		tb := b.thaw()
		tb.Events = nil
		got, gok := boundBatch(tb)
		want, wok := boundValue(reflect.ValueOf(tb))
		mu.Lock()
		all = append(all, frozen{data, b, bound})
		if got != want || gok != wok {
			unequal = append(unequal, fmt.Sprintf("a batch of %s: boundBatch %d, %v; boundValue %d, %v: %s", b.arn, got, gok, want, wok, data))
		}
		mu.Unlock()
	}
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		ok := len(unequal) == 0
		for _, u := range unequal {
			fmt.Fprintln(os.Stderr, u)
		}
		for _, f := range all {
			if len(f.data) > f.bound {
				fmt.Fprintf(os.Stderr, "a batch of %s encodes to %d bytes, above its bound %d: %s\n", f.b.arn, len(f.data), f.bound, f.data)
				ok = false
			}
			if got := f.b.JSON(); !bytes.Equal(got, f.data) {
				fmt.Fprintf(os.Stderr, "a batch of %s changed after its transition:\nthen %s\nnow  %s\n", f.b.arn, f.data, got)
				ok = false
			}
		}
		return ok
	}
}

// TestEventDetailsAreEveryDetail: eventDetails reads each detail field of
// sfn.HistoryEvent, in its order, and eventPlan takes it.
func TestEventDetailsAreEveryDetail(t *testing.T) {
	t.Parallel()
	require.True(t, eventPlan.ok)
	typ := reflect.TypeFor[sfn.HistoryEvent]()
	require.Equal(t, firstDetailField+len(eventDetails), typ.NumField())
	for j := firstDetailField; j < typ.NumField(); j++ {
		var ev sfn.HistoryEvent
		p := reflect.New(typ.Field(j).Type.Elem())
		reflect.ValueOf(&ev).Elem().Field(j).Set(p)
		for i, read := range eventDetails {
			if i == j-firstDetailField {
				require.Same(t, p.Interface(), read(&ev), typ.Field(j).Name)
				continue
			}
			require.Nil(t, read(&ev), "eventDetails[%d] with %s set", i, typ.Field(j).Name)
		}
	}
}

// TestBoundDetailIsBoundValue: the written-out bounds of boundDetail are
// boundValue's, for each detail type it knows, fields empty and not.
func TestBoundDetailIsBoundValue(t *testing.T) {
	t.Parallel()
	for _, text := range []string{"", "x", "<&>\u00e9\x01 a longer text"} {
		details := []any{
			&sfn.OutputDetails{Output: text},
			&sfn.FailureDetails{Error: text, Cause: text + text},
			&sfn.StateEnteredDetails{Name: text, Input: text},
			&sfn.StateExitedDetails{Name: text, Output: text},
			&sfn.StateExitedDetails{Name: text, Output: text, AssignedVariables: map[string]string{"a": text}},
			&sfn.TaskScheduledDetails{ResourceType: text, Resource: text, Region: text, Parameters: text, TimeoutInSeconds: 30, HeartbeatSeconds: -1},
			&sfn.TaskDetails{ResourceType: text, Resource: text},
			&sfn.TaskOutputDetails{ResourceType: text, Resource: text, Output: text},
			&sfn.TaskFailureDetails{ResourceType: text, Resource: text, Error: text, Cause: text},
			&sfn.ExecutionStartedDetails{Input: text, RoleARN: text, StateMachineARN: text, StateMachineVersionARN: text, StateMachineAliasARN: text},
			&sfn.MapIterationDetails{Name: text, Index: 3},
		}
		for _, d := range details {
			want, wok := boundValue(reflect.ValueOf(d))
			got, gok := boundDetail(d)
			require.Equal(t, wok, gok, "%T", d)
			require.Equal(t, want, got, "%T %q", d, text)
			raw, err := json.Marshal(d)
			require.NoError(t, err)
			require.LessOrEqual(t, len(raw), got, "%T", d)
		}
	}
}
