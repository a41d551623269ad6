package engine

import (
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/sfn"
)

// TestBoundThreadIsBoundValue: boundThreadFast and boundBatch are the
// reflective bounds (a batch's without its events), on threads and
// batches with their fields empty and set, the ones they write out and the
// ones they leave to boundValue.
func TestBoundThreadIsBoundValue(t *testing.T) {
	t.Parallel()
	obj := asl.NewObject(1)
	obj.Set("k", "<&>")
	for _, text := range []string{"", "x", "<&>\u00e9\x01 a longer text"} {
		threads := []*thread{
			{},
			{ID: 3, Parent: 1, Index: 2, State: text, Input: obj, Entered: time.Unix(1, 0), Phase: text, Gen: 4,
				Retries: []int{1, 2}, RetryCount: 2, Due: time.Unix(2, 0), Token: text, LastEvent: 9, EnteredEvent: 8, MaxConc: 5, MapRun: text},
			{State: text, Input: text, inputJSON: `"` + text + `"`, Retries: []int{}},
			{Task: &taskCall{Kind: text, Wait: true, Resource: text, Params: obj, TimeoutDue: time.Unix(3, 0), HeartbeatSeconds: 7}},
			{Task: &taskCall{Kind: text, Resource: text, Params: obj, paramsJSON: `{"k":"<&>"}`}},
			{Scope: []scopeStep{{State: text, Branch: 1}}, Input: []any{text, 1.5}},
			{Vars: map[string]any{"v": text}, Outer: map[string]any{}, Effective: obj},
		}
		for i, th := range threads {
			want, wok := boundValue(reflect.ValueOf(th))
			got, gok := boundThreadFast(th)
			require.Equal(t, wok, gok, "thread %d", i)
			require.Equal(t, want, got, "thread %d, %q", i, text)
		}
		batches := []*batch{
			{},
			{Start: &batchStart{Definition: text, RoleARN: text}, Threads: map[int]*thread{0: threads[1], 1: nil, 2: threads[3]},
				Succeeded: []string{text, "a"}, Spent: []string{}},
			{Start: &batchStart{Revision: text, RoleARN: text}},
			{Threads: map[int]*thread{}, Spawn: map[int]spawnInfo{1: {Slots: 2}}},
			{Ended: []childEnd{{Parent: 1}}, Halted: []halt{}, Redrive: &redriveMark{}, MapRuns: map[string]*mapRunRecord{}},
			{Events: []sfn.HistoryEvent{}},
		}
		for i, b := range batches {
			without := *b // boundBatch leaves the events out
			without.Events = nil
			want, wok := boundValue(reflect.ValueOf(&without))
			got, gok := boundBatch(b)
			require.Equal(t, wok, gok, "batch %d", i)
			require.Equal(t, want, got, "batch %d, %q", i, text)
		}
	}
}

// TestDetailIndexIsEventDetails: detailIndex counts the detail fields
// eventDetails reads as set, and names the last.
func TestDetailIndexIsEventDetails(t *testing.T) {
	t.Parallel()
	typ := reflect.TypeFor[sfn.HistoryEvent]()
	var none sfn.HistoryEvent
	n, at := detailIndex(&none)
	require.Equal(t, 0, n)
	require.Equal(t, -1, at)
	for i := range eventDetails {
		var ev sfn.HistoryEvent
		reflect.ValueOf(&ev).Elem().Field(firstDetailField + i).Set(reflect.New(typ.Field(firstDetailField + i).Type.Elem()))
		n, at := detailIndex(&ev)
		require.Equal(t, 1, n, typ.Field(firstDetailField+i).Name)
		require.Equal(t, i, at, typ.Field(firstDetailField+i).Name)
		require.NotNil(t, eventDetails[at](&ev))
		if i > 0 {
			reflect.ValueOf(&ev).Elem().Field(firstDetailField).Set(reflect.New(typ.Field(firstDetailField).Type.Elem()))
			n, at = detailIndex(&ev)
			require.Equal(t, 2, n, typ.Field(firstDetailField+i).Name)
			require.Equal(t, i, at)
		}
	}
}
