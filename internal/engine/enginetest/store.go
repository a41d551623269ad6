// Package enginetest holds what tests of the engine's ports share: the
// contract suites that every adapter of a port must pass, and Store, a
// fake engine.Store for injecting failures.
package enginetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/sfn"
)

// RunStoreSuite runs the contract of engine.Store against the stores
// newStore makes.
//
// newStore may hand every case the same store (one database for a whole
// test package): each case uses state machines and executions of its own
// and never assumes that a store is empty.
//
// The contract, beyond the doc comments of engine.Store:
//   - A call of Commit is written whole or not at all; a refused call
//     (ValidationException, ConflictException) leaves nothing behind.
//   - A commit's Seq must be one past its execution's last; otherwise
//     ConflictException, naming the execution, the expected and the given
//     seq. Seq 1 creates the execution, whose name must be new to its state
//     machine.
//   - An execution's identity (state machine, name, start date, input,
//     trace header) is that of its first commit; later commits change its
//     status, stop date, output, error and cause.
//   - A retried commit that is stored already (the same Seq, Type and Data)
//     either succeeds and changes nothing, or is a ConflictException; the
//     engine never retries a commit that succeeded. A stored Seq with other
//     Data is always a ConflictException.
//   - Executions lists newest start first, the greater ARN first on a tie,
//     without Input and Output; pages continue after a position, so
//     executions started while a caller pages do not shift its pages.
//   - A commit's Data is at most engine.MaxBatchBytes.
//   - Times keep microseconds and come back in UTC.
//   - Batches and the records a store returns are copies: a caller that
//     changes them changes nothing stored. (A store may keep a commit's
//     Data as given, since the engine never changes it after Commit.)
func RunStoreSuite(t *testing.T, newStore func(t *testing.T) engine.Store) {
	t.Helper()
	cases := []struct {
		name string
		run  func(t *testing.T, f *fixture)
	}{
		{"StateMachinesPutReplaceDelete", testStateMachines},
		{"StateMachineRevisionsOutliveTheirMachine", testStateMachineRevisions},
		{"CommitAndRead", testCommitAndRead},
		{"SeveralCommitsOfOneExecutionInOneCall", testSeveralCommitsInOneCall},
		{"ConflictWritesNothing", testConflictWritesNothing},
		{"FirstCommitNeedsANewName", testNameTaken},
		{"InvalidCommitsWriteNothing", testInvalidCommits},
		{"IdentityIsTheFirstCommits", testIdentityKept},
		{"TimesKeepMicrosecondsInUTC", testTimes},
		{"RetriedCommit", testRetriedCommit},
		{"CallersCannotChangeWhatIsStored", testCopies},
		{"ExecutionsNewestFirstWithTies", testListOrderAndPages},
		{"ExecutionsStatusFilter", testListStatusFilter},
		{"ExecutionsDefaultLimit", testListDefaultLimit},
		{"ExecutionsPagesStableUnderInserts", testListStableCursor},
		{"ExecutionsBadFilters", testListBadFilters},
		{"OpenExecutions", testOpenExecutions},
		{"ConcurrentUse", testConcurrentUse},
		{"RacingCommitsOneWins", testRacingCommits},
		{"VersionsAndAliases", testVersionsAndAliases},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newFixture(t, newStore(t)))
		})
	}
}

const (
	arnPrefix    = "arn:aws:states:us-east-1:123456789012:"
	storeRoleARN = "arn:aws:iam::123456789012:role/aiflow-test"
)

var fixtureSeq atomic.Int64

// fixture is one case's store and its own state machine.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	store engine.Store
	// sm is the case's state machine name, unique in the process.
	sm    string
	smARN string
	base  time.Time
}

func newFixture(t *testing.T, s engine.Store) *fixture {
	name := t.Name()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	sm := fmt.Sprintf("%s-%d", name, fixtureSeq.Add(1))
	return &fixture{
		t: t, ctx: context.Background(), store: s,
		sm: sm, smARN: arnPrefix + "stateMachine:" + sm,
		base: time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC),
	}
}

// machineARN is the ARN of another state machine of the case.
func (f *fixture) machineARN(suffix string) string { return f.smARN + "-" + suffix }

func (f *fixture) execARN(smARN, name string) string {
	return arnPrefix + "execution:" + strings.TrimPrefix(smARN, arnPrefix+"stateMachine:") + ":" + name
}

// running is the summary of a new execution of the case's state machine.
func (f *fixture) running(name string, start time.Time) engine.ExecutionRecord {
	return f.runningOf(f.smARN, name, start)
}

func (f *fixture) runningOf(smARN, name string, start time.Time) engine.ExecutionRecord {
	return engine.ExecutionRecord{
		ARN:             f.execARN(smARN, name),
		StateMachineARN: smARN,
		Name:            name,
		Status:          sfn.StatusRunning,
		StartDate:       start,
		Input:           `{"name":"` + name + `"}`,
		TraceHeader:     "Root=1-5759e988-bd862e3fe1be46a994272793",
	}
}

func succeeded(r engine.ExecutionRecord, stop time.Time, output string) engine.ExecutionRecord {
	r.Status, r.StopDate, r.Output = sfn.StatusSucceeded, stop, output
	return r
}

func commit(r engine.ExecutionRecord, seq int64, typ, data string) engine.Commit {
	return engine.Commit{Execution: r, Seq: seq, Type: typ, Data: json.RawMessage(data)}
}

func (f *fixture) commit(commits ...engine.Commit) {
	f.t.Helper()
	require.NoError(f.t, f.store.Commit(f.ctx, commits))
}

// start commits the first batch of each execution, in one call.
func (f *fixture) start(recs ...engine.ExecutionRecord) {
	f.t.Helper()
	commits := make([]engine.Commit, len(recs))
	for i, r := range recs {
		commits[i] = commit(r, 1, "ExecutionStarted", `{"events":[{"type":"ExecutionStarted"}]}`)
	}
	f.commit(commits...)
}

func (f *fixture) execution(arn string) (engine.ExecutionRecord, bool) {
	f.t.Helper()
	rec, ok, err := f.store.Execution(f.ctx, arn)
	require.NoError(f.t, err)
	return rec, ok
}

func (f *fixture) batches(arn string) []json.RawMessage {
	f.t.Helper()
	b, err := f.store.Batches(f.ctx, arn)
	require.NoError(f.t, err)
	return b
}

func (f *fixture) requireBatches(arn string, want ...string) {
	f.t.Helper()
	got := f.batches(arn)
	require.Len(f.t, got, len(want), "batches of %s", arn)
	for i := range want {
		require.JSONEq(f.t, want[i], string(got[i]), "batch %d of %s", i, arn)
	}
}

// requireRecord checks a record field by field, times by instant.
func requireRecord(t *testing.T, want, got engine.ExecutionRecord) {
	t.Helper()
	requireTime(t, want.StartDate, got.StartDate, "start date of "+want.ARN)
	requireTime(t, want.StopDate, got.StopDate, "stop date of "+want.ARN)
	want.StartDate, want.StopDate, got.StartDate, got.StopDate = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	require.Equal(t, want, got)
}

// requireTime checks that got is want to the microsecond, in UTC.
func requireTime(t *testing.T, want, got time.Time, what string) {
	t.Helper()
	if want.IsZero() {
		require.True(t, got.IsZero(), "%s: want none, got %s", what, got)
		return
	}
	want = want.Truncate(time.Microsecond)
	require.True(t, want.Equal(got), "%s: want %s, got %s", what, want, got)
	require.Equal(t, time.UTC, got.Location(), what)
}

func requireCode(t *testing.T, err error, code string) *sfn.Error {
	t.Helper()
	var e *sfn.Error
	require.ErrorAs(t, err, &e, "want an *engine.Error with code %s", code)
	require.Equal(t, code, e.Code, "error: %v", err)
	return e
}

func (f *fixture) requireMissing(arn string) {
	f.t.Helper()
	_, ok := f.execution(arn)
	require.False(f.t, ok, "%s must not exist", arn)
	require.Empty(f.t, f.batches(arn), "%s must have no batches", arn)
}

func (f *fixture) ownMachines() []engine.StateMachineRecord {
	f.t.Helper()
	all, err := f.store.StateMachines(f.ctx)
	require.NoError(f.t, err)
	var own []engine.StateMachineRecord
	for _, sm := range all {
		if sm.ARN == f.smARN || strings.HasPrefix(sm.ARN, f.smARN+"-") {
			own = append(own, sm)
		}
	}
	return own
}

func (f *fixture) list(filter engine.ExecutionFilter) ([]engine.ExecutionRecord, string) {
	f.t.Helper()
	recs, next, err := f.store.Executions(f.ctx, filter)
	require.NoError(f.t, err)
	return recs, next
}

// listAll pages through a listing and returns the ARNs in order.
func (f *fixture) listAll(filter engine.ExecutionFilter) []string {
	f.t.Helper()
	var arns []string
	for pages := 0; ; pages++ {
		require.Less(f.t, pages, 1000, "the listing never ends")
		recs, next := f.list(filter)
		if filter.Limit > 0 {
			require.LessOrEqual(f.t, len(recs), filter.Limit)
		}
		for _, r := range recs {
			arns = append(arns, r.ARN)
		}
		if next == "" {
			return arns
		}
		require.NotEmpty(f.t, recs, "a page with a next position has executions")
		filter.After = next
	}
}

// newestFirst orders records as Executions lists them.
func newestFirst(recs []engine.ExecutionRecord) []string {
	recs = slices.Clone(recs)
	slices.SortFunc(recs, func(a, b engine.ExecutionRecord) int {
		if c := b.StartDate.Compare(a.StartDate); c != 0 {
			return c
		}
		return strings.Compare(b.ARN, a.ARN)
	})
	arns := make([]string, len(recs))
	for i, r := range recs {
		arns[i] = r.ARN
	}
	return arns
}

func testStateMachines(t *testing.T, f *fixture) {
	zone := time.FixedZone("UTC+2", 2*3600)
	created := time.Date(2026, 5, 4, 12, 0, 0, 123456789, zone)
	sm := engine.StateMachineRecord{
		ARN: f.smARN, Name: f.sm, Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
		RoleARN: storeRoleARN, Type: sfn.TypeStandard,
		CreationDate: created, UpdateDate: created, RevisionID: "r1",
	}
	other := sm
	other.ARN, other.Name, other.Type = f.machineARN("express"), f.sm+"-express", sfn.TypeExpress
	require.NoError(t, f.store.PutStateMachine(f.ctx, sm))
	require.NoError(t, f.store.PutStateMachine(f.ctx, other))

	own := f.ownMachines()
	require.Len(t, own, 2)
	require.Equal(t, sm.ARN, own[0].ARN, "state machines come in ARN order")
	got := own[0]
	requireTime(t, created, got.CreationDate, "creation date")
	requireTime(t, created, got.UpdateDate, "update date")
	got.CreationDate, got.UpdateDate = sm.CreationDate, sm.UpdateDate
	require.Equal(t, sm, got)
	require.Equal(t, sfn.TypeExpress, own[1].Type)

	// Replacing is idempotent and keeps one record per ARN.
	replaced := sm
	replaced.Definition = `{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}`
	replaced.UpdateDate = created.Add(time.Hour)
	replaced.RevisionID = "r2"
	for range 2 {
		require.NoError(t, f.store.PutStateMachine(f.ctx, replaced))
	}
	own = f.ownMachines()
	require.Len(t, own, 2)
	require.Equal(t, replaced.Definition, own[0].Definition)
	require.Equal(t, "r2", own[0].RevisionID)
	requireTime(t, created, own[0].CreationDate, "creation date")
	requireTime(t, replaced.UpdateDate, own[0].UpdateDate, "update date")

	// Deleting keeps the executions; deleting again is no error.
	r := f.running("kept", f.base)
	f.start(r)
	require.NoError(t, f.store.DeleteStateMachine(f.ctx, sm.ARN))
	require.NoError(t, f.store.DeleteStateMachine(f.ctx, sm.ARN))
	require.NoError(t, f.store.DeleteStateMachine(f.ctx, f.machineARN("never-made")))
	own = f.ownMachines()
	require.Len(t, own, 1)
	require.Equal(t, other.ARN, own[0].ARN)
	_, ok := f.execution(r.ARN)
	require.True(t, ok, "deleting a state machine keeps its executions")

	err := f.store.PutStateMachine(f.ctx, engine.StateMachineRecord{Name: "no-arn"})
	requireCode(t, err, sfn.CodeValidation)
}

// testStateMachineRevisions: each revision PutStateMachine was given is
// kept with its definition and role, the first one given under its id,
// through later revisions and the state machine's deletion.
func testStateMachineRevisions(t *testing.T, f *fixture) {
	sm := engine.StateMachineRecord{
		ARN: f.smARN, Name: f.sm, Definition: `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`,
		RoleARN: storeRoleARN, Type: sfn.TypeStandard, CreationDate: f.base, UpdateDate: f.base, RevisionID: "r1",
	}
	require.NoError(t, f.store.PutStateMachine(f.ctx, sm))
	next := sm
	next.Definition, next.RoleARN, next.RevisionID = `{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}`, storeRoleARN+"-next", "r2"
	require.NoError(t, f.store.PutStateMachine(f.ctx, next))
	same := next
	same.LastVersion = 3 // a put that keeps the revision (a version published, say)
	require.NoError(t, f.store.PutStateMachine(f.ctx, same))
	require.NoError(t, f.store.DeleteStateMachine(f.ctx, sm.ARN))

	for _, want := range []engine.StateMachineRecord{sm, next} {
		for range 2 { // the second read may come from a cache
			def, role, ok, err := f.store.StateMachineRevision(f.ctx, sm.ARN, want.RevisionID)
			require.NoError(t, err)
			require.True(t, ok, "revision %s", want.RevisionID)
			require.Equal(t, want.Definition, def)
			require.Equal(t, want.RoleARN, role)
		}
	}
	for _, k := range [][2]string{{sm.ARN, "r3"}, {f.machineARN("other"), "r1"}} {
		_, _, ok, err := f.store.StateMachineRevision(f.ctx, k[0], k[1])
		require.NoError(t, err)
		require.False(t, ok, "no revision %s of %s was put", k[1], k[0])
	}
}

func testCommitAndRead(t *testing.T, f *fixture) {
	r := f.running("one", f.base)
	f.requireMissing(r.ARN)
	require.Nil(t, f.batches(r.ARN), "an unknown execution has no batches")

	f.commit(commit(r, 1, "ExecutionStarted", `{"events": [{"type": "ExecutionStarted", "id": 1}]}`))
	got, ok := f.execution(r.ARN)
	require.True(t, ok)
	requireRecord(t, r, got)

	f.commit(commit(r, 2, "TaskScheduled", `{"events":[{"type":"TaskStateEntered","id":2},{"type":"TaskScheduled","id":3}]}`))
	done := succeeded(r, f.base.Add(3*time.Second), `{"ok":true}`)
	f.commit(commit(done, 3, "ExecutionSucceeded", `{"events":[{"type":"ExecutionSucceeded","id":4}]}`))

	got, ok = f.execution(r.ARN)
	require.True(t, ok)
	requireRecord(t, done, got)
	f.requireBatches(r.ARN,
		`{"events":[{"type":"ExecutionStarted","id":1}]}`,
		`{"events":[{"type":"TaskStateEntered","id":2},{"type":"TaskScheduled","id":3}]}`,
		`{"events":[{"type":"ExecutionSucceeded","id":4}]}`)

	require.NoError(t, f.store.Commit(f.ctx, nil), "an empty call writes nothing and succeeds")
}

func testSeveralCommitsInOneCall(t *testing.T, f *fixture) {
	a, b := f.running("a", f.base), f.running("b", f.base.Add(time.Second))
	doneB := succeeded(b, f.base.Add(2*time.Second), `"b"`)
	f.commit(
		commit(a, 1, "ExecutionStarted", `{"a":1}`),
		commit(b, 1, "ExecutionStarted", `{"b":1}`),
		commit(a, 2, "TaskScheduled", `{"a":2}`),
		commit(b, 2, "TaskScheduled", `{"b":2}`),
		commit(a, 3, "TaskSucceeded", `{"a":3}`),
		commit(doneB, 3, "ExecutionSucceeded", `{"b":3}`),
	)
	f.requireBatches(a.ARN, `{"a":1}`, `{"a":2}`, `{"a":3}`)
	f.requireBatches(b.ARN, `{"b":1}`, `{"b":2}`, `{"b":3}`)
	got, _ := f.execution(b.ARN)
	requireRecord(t, doneB, got)
	got, _ = f.execution(a.ARN)
	requireRecord(t, a, got)

	f.commit(commit(a, 4, "TaskScheduled", `{"a":4}`), commit(a, 5, "TaskScheduled", `{"a":5}`))
	f.requireBatches(a.ARN, `{"a":1}`, `{"a":2}`, `{"a":3}`, `{"a":4}`, `{"a":5}`)
}

func testConflictWritesNothing(t *testing.T, f *fixture) {
	a, c := f.running("a", f.base), f.running("c", f.base)
	f.start(a, c)
	f.commit(commit(c, 2, "TaskScheduled", `{"c":2}`))
	b := f.running("b", f.base)

	// One bad commit at the end refuses the whole call.
	err := f.store.Commit(f.ctx, []engine.Commit{
		commit(succeeded(a, f.base.Add(time.Second), `{}`), 2, "ExecutionSucceeded", `{"a":2}`),
		commit(b, 1, "ExecutionStarted", `{"b":1}`),
		commit(c, 5, "TaskScheduled", `{"c":5}`),
	})
	e := requireCode(t, err, sfn.CodeConflict)
	require.Contains(t, e.Message, c.ARN, "the conflict names the execution")
	require.Contains(t, e.Message, "seq 5", "the conflict names the given seq")
	require.Contains(t, e.Message, "expected seq 3", "the conflict names the expected seq")

	f.requireMissing(b.ARN)
	f.requireBatches(a.ARN, `{"events":[{"type":"ExecutionStarted"}]}`)
	got, _ := f.execution(a.ARN)
	requireRecord(t, a, got)
	require.Len(t, f.batches(c.ARN), 2)
	arns := f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN})
	require.ElementsMatch(t, []string{a.ARN, c.ARN}, arns, "the refused execution is not listed")

	// A gap inside one call.
	d := f.running("d", f.base)
	err = f.store.Commit(f.ctx, []engine.Commit{commit(d, 1, "ExecutionStarted", `{}`), commit(d, 3, "TaskScheduled", `{}`)})
	e = requireCode(t, err, sfn.CodeConflict)
	require.Contains(t, e.Message, d.ARN)
	require.Contains(t, e.Message, "expected seq 2")
	f.requireMissing(d.ARN)

	// A first commit for an execution that exists, and a later one for an
	// execution that does not.
	requireCode(t, f.store.Commit(f.ctx, []engine.Commit{commit(a, 1, "ExecutionStarted", `{}`)}), sfn.CodeConflict)
	e = requireCode(t, f.store.Commit(f.ctx, []engine.Commit{commit(d, 2, "TaskScheduled", `{}`)}), sfn.CodeConflict)
	require.Contains(t, e.Message, "expected seq 1")
	f.requireMissing(d.ARN)
	require.Len(t, f.batches(a.ARN), 1)

	// Two first commits of one execution in one call.
	requireCode(t, f.store.Commit(f.ctx, []engine.Commit{commit(d, 1, "ExecutionStarted", `{}`), commit(d, 1, "ExecutionStarted", `{}`)}), sfn.CodeConflict)
	f.requireMissing(d.ARN)

	// The refused calls left nothing behind: their commits, put right,
	// are written.
	f.commit(
		commit(succeeded(a, f.base.Add(time.Second), `{}`), 2, "ExecutionSucceeded", `{"a":2}`),
		commit(b, 1, "ExecutionStarted", `{"b":1}`),
		commit(c, 3, "TaskScheduled", `{"c":3}`),
		commit(d, 1, "ExecutionStarted", `{}`),
		commit(d, 2, "TaskScheduled", `{}`),
	)
	require.Len(t, f.batches(a.ARN), 2)
	require.Len(t, f.batches(b.ARN), 1)
	require.Len(t, f.batches(c.ARN), 3)
	require.Len(t, f.batches(d.ARN), 2)
}

func testNameTaken(t *testing.T, f *fixture) {
	a := f.running("same", f.base)
	f.start(a)
	// Another ARN for the same state machine and name.
	twin := a
	twin.ARN = a.ARN + "-twin"
	e := requireCode(t, f.store.Commit(f.ctx, []engine.Commit{commit(twin, 1, "ExecutionStarted", `{}`)}), sfn.CodeConflict)
	require.Contains(t, e.Message, twin.ARN)
	f.requireMissing(twin.ARN)

	// Two in one call.
	x := f.running("x", f.base)
	xTwin := x
	xTwin.ARN = x.ARN + "-twin"
	requireCode(t, f.store.Commit(f.ctx, []engine.Commit{commit(x, 1, "ExecutionStarted", `{}`), commit(xTwin, 1, "ExecutionStarted", `{}`)}), sfn.CodeConflict)
	f.requireMissing(x.ARN)
	f.requireMissing(xTwin.ARN)

	// The same name in another state machine is another execution.
	other := f.runningOf(f.machineARN("other"), "same", f.base)
	f.start(other)
	_, ok := f.execution(other.ARN)
	require.True(t, ok)
}

func testInvalidCommits(t *testing.T, f *fixture) {
	good := f.running("good", f.base)
	bad := f.running("bad", f.base)
	noSM, noName := bad, bad
	noSM.StateMachineARN = ""
	noName.Name = ""
	noARN := bad
	noARN.ARN = ""
	for _, c := range []struct {
		name   string
		commit engine.Commit
		says   string
	}{
		{"no ARN", commit(noARN, 1, "ExecutionStarted", `{}`), "execution ARN is empty"},
		{"seq 0", commit(bad, 0, "ExecutionStarted", `{}`), "seq must be 1 or more"},
		{"negative seq", commit(bad, -1, "ExecutionStarted", `{}`), "seq must be 1 or more"},
		{"no type", commit(bad, 1, "", `{}`), "type is empty"},
		{"no data", commit(bad, 1, "ExecutionStarted", ``), "data"},
		{"an array", commit(bad, 1, "ExecutionStarted", `[{}]`), "data"},
		{"a string", commit(bad, 1, "ExecutionStarted", `"{}"`), "data"},
		{"a cut object", commit(bad, 1, "ExecutionStarted", `{"a":`), "data"},
		{"too much data", commit(bad, 1, "ExecutionStarted", `{"a":"`+strings.Repeat("x", engine.MaxBatchBytes)+`"}`), "limit of a batch"},
		{"no state machine", commit(noSM, 1, "ExecutionStarted", `{}`), "state machine ARN is empty"},
		{"no name", commit(noName, 1, "ExecutionStarted", `{}`), "name is empty"},
	} {
		err := f.store.Commit(f.ctx, []engine.Commit{commit(good, 1, "ExecutionStarted", `{}`), c.commit})
		e := requireCode(t, err, sfn.CodeValidation)
		require.Contains(t, e.Message, c.says, c.name)
		require.Contains(t, e.Message, "commit 1", "%s: the error names the commit", c.name)
		f.requireMissing(good.ARN)
		f.requireMissing(bad.ARN)
	}
}

func testIdentityKept(t *testing.T, f *fixture) {
	r := f.running("identity", f.base)
	f.start(r)
	later := succeeded(r, f.base.Add(time.Minute), `{"out":1}`)
	later.Input, later.TraceHeader, later.StartDate, later.Name = `{"changed":true}`, "", f.base.Add(time.Hour), "renamed"
	later.Error, later.Cause = "", ""
	f.commit(commit(later, 2, "ExecutionSucceeded", `{}`))

	got, ok := f.execution(r.ARN)
	require.True(t, ok)
	want := succeeded(r, f.base.Add(time.Minute), `{"out":1}`)
	requireRecord(t, want, got)

	failed := want
	failed.Status, failed.Error, failed.Cause = sfn.StatusFailed, "States.TaskFailed", "boom"
	f.commit(commit(failed, 3, "ExecutionFailed", `{}`))
	got, _ = f.execution(r.ARN)
	requireRecord(t, failed, got)
}

func testTimes(t *testing.T, f *fixture) {
	zone := time.FixedZone("UTC-7", -7*3600)
	start := time.Date(2026, 5, 4, 3, 4, 5, 678901234, zone)
	r := f.running("times", start)
	f.start(r)
	got, _ := f.execution(r.ARN)
	requireTime(t, start, got.StartDate, "start date")
	require.True(t, got.StopDate.IsZero(), "a running execution has no stop date")

	stop := start.Add(1500 * time.Nanosecond) // 1.5µs later: 1µs once truncated
	f.commit(commit(succeeded(r, stop, `{}`), 2, "ExecutionSucceeded", `{}`))
	got, _ = f.execution(r.ARN)
	requireTime(t, stop, got.StopDate, "stop date")
	require.Equal(t, time.Microsecond, got.StopDate.Sub(got.StartDate))

	recs, _ := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN})
	require.Len(t, recs, 1)
	requireTime(t, start, recs[0].StartDate, "listed start date")
	requireTime(t, stop, recs[0].StopDate, "listed stop date")
}

func testRetriedCommit(t *testing.T, f *fixture) {
	r := f.running("retried", f.base)
	c1 := commit(r, 1, "ExecutionStarted", `{"n":1}`)
	done := succeeded(r, f.base.Add(time.Second), `{"done":true}`)
	c2 := commit(done, 2, "ExecutionSucceeded", `{"n":2}`)
	f.commit(c1)
	f.commit(c2)

	unchanged := func(what string) {
		t.Helper()
		b := f.batches(r.ARN)
		require.Len(t, b, 2, what)
		require.JSONEq(t, `{"n":2}`, string(b[1]), what)
		got, _ := f.execution(r.ARN)
		require.Equal(t, sfn.StatusSucceeded, got.Status, what)
		requireRecord(t, done, got)
	}
	// The last commit again: accepted as a no-op, or refused.
	if err := f.store.Commit(f.ctx, []engine.Commit{c2}); err != nil {
		requireCode(t, err, sfn.CodeConflict)
	}
	unchanged("after the last commit again")
	// An older commit again never brings back an older summary.
	if err := f.store.Commit(f.ctx, []engine.Commit{c1}); err != nil {
		requireCode(t, err, sfn.CodeConflict)
	}
	unchanged("after the first commit again")

	// The same seq with other data, alone or with a new commit after it.
	other := c2
	other.Data = json.RawMessage(`{"n":"other"}`)
	requireCode(t, f.store.Commit(f.ctx, []engine.Commit{other}), sfn.CodeConflict)
	unchanged("after other data for seq 2")
	requireCode(t, f.store.Commit(f.ctx, []engine.Commit{c2, commit(done, 3, "X", `{"n":3}`)}), sfn.CodeConflict)
	unchanged("after seq 2 again with seq 3")
}

func testCopies(t *testing.T, f *fixture) {
	r := f.running("copies", f.base)
	f.commit(engine.Commit{Execution: r, Seq: 1, Type: "ExecutionStarted", Data: []byte(`{"n":1}`)})

	got := f.batches(r.ARN)
	for i := range got[0] {
		got[0][i] = ' '
	}
	got[0] = json.RawMessage(`{"x":0}`)
	f.requireBatches(r.ARN, `{"n":1}`)
}

func testListOrderAndPages(t *testing.T, f *fixture) {
	offsets := []time.Duration{0, 0, 0, time.Second, time.Second, 2 * time.Second, -time.Second}
	var recs []engine.ExecutionRecord
	for i, d := range offsets {
		recs = append(recs, f.running(fmt.Sprintf("e%d", i), f.base.Add(d)))
	}
	// Ties that a locale would sort otherwise than bytes do.
	for _, name := range []string{"Upper", "lower", "_under", "~tilde", "Ähnlich"} {
		recs = append(recs, f.running(name, f.base.Add(time.Second)))
	}
	// Another state machine's executions are not listed.
	f.start(f.runningOf(f.machineARN("other"), "e0", f.base))
	f.start(recs[:4]...)
	f.start(recs[4:]...)
	want := newestFirst(recs)

	for _, limit := range []int{1, 2, 3, 7, 11, 12, 13} {
		require.Equal(t, want, f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: limit}), "limit %d", limit)
	}
	page, next := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 12})
	require.Len(t, page, 12)
	require.Empty(t, next, "a page that ends the listing has no next position")
	for _, got := range page {
		i := slices.IndexFunc(recs, func(r engine.ExecutionRecord) bool { return r.ARN == got.ARN })
		want := recs[i]
		want.Input, want.Output = "", ""
		requireRecord(t, want, got)
	}

	page, next = f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 11})
	require.Len(t, page, 11)
	require.NotEmpty(t, next)
	rest, last := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 11, After: next})
	require.Len(t, rest, 1)
	require.Equal(t, want[11], rest[0].ARN)
	require.Empty(t, last)

	none, next := f.list(engine.ExecutionFilter{StateMachineARN: f.machineARN("no-such")})
	require.Empty(t, none)
	require.Empty(t, next)
}

func testListStatusFilter(t *testing.T, f *fixture) {
	var all, done []engine.ExecutionRecord
	for i := range 6 {
		r := f.running(fmt.Sprintf("s%d", i), f.base.Add(time.Duration(i%3)*time.Second))
		f.start(r)
		switch i % 3 {
		case 1:
			r = succeeded(r, f.base.Add(time.Minute), `{}`)
			f.commit(commit(r, 2, "ExecutionSucceeded", `{}`))
			done = append(done, r)
		case 2:
			r.Status, r.StopDate, r.Error = sfn.StatusFailed, f.base.Add(time.Minute), "States.Timeout"
			f.commit(commit(r, 2, "ExecutionFailed", `{}`))
		}
		all = append(all, r)
	}
	byStatus := func(s sfn.ExecutionStatus) []engine.ExecutionRecord {
		var out []engine.ExecutionRecord
		for _, r := range all {
			if r.Status == s {
				out = append(out, r)
			}
		}
		return out
	}
	for _, s := range []sfn.ExecutionStatus{sfn.StatusRunning, sfn.StatusSucceeded, sfn.StatusFailed} {
		for _, limit := range []int{0, 1, 2} {
			require.Equal(t, newestFirst(byStatus(s)), f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, Status: s, Limit: limit}), "%s, limit %d", s, limit)
		}
	}
	require.Empty(t, f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, Status: sfn.StatusAborted}))
	require.Equal(t, newestFirst(all), f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN}))
	recs, _ := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, Status: sfn.StatusSucceeded})
	require.Len(t, recs, len(done))
	require.Equal(t, sfn.StatusSucceeded, recs[0].Status)
	require.Empty(t, recs[0].Output, "listings leave the output out")
}

func testListDefaultLimit(t *testing.T, f *fixture) {
	var recs []engine.ExecutionRecord
	for i := range engine.DefaultExecutionsLimit + 5 {
		recs = append(recs, f.running(fmt.Sprintf("n%03d", i), f.base.Add(time.Duration(i)*time.Millisecond)))
	}
	f.start(recs...)
	page, next := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN})
	require.Len(t, page, engine.DefaultExecutionsLimit)
	require.NotEmpty(t, next)
	rest, next := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, After: next})
	require.Len(t, rest, 5)
	require.Empty(t, next)
	require.Equal(t, recs[0].ARN, rest[4].ARN)
}

func testListStableCursor(t *testing.T, f *fixture) {
	var recs []engine.ExecutionRecord
	for i := range 7 {
		recs = append(recs, f.running(fmt.Sprintf("c%d", i), f.base.Add(time.Duration(i/2)*time.Second)))
	}
	f.start(recs...)
	want := newestFirst(recs)

	page, next := f.list(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 3})
	require.Len(t, page, 3)
	// While the caller pages: a newer execution, one that ties with the
	// last listed on its start and sorts above it, and an older one.
	last := page[2]
	tie := f.running("c9-tie", last.StartDate)
	require.Greater(t, tie.ARN, last.ARN)
	newer := f.running("new", f.base.Add(time.Hour))
	older := f.running("old", f.base.Add(-time.Hour))
	f.start(newer, tie, older)

	got := []string{page[0].ARN, page[1].ARN, page[2].ARN}
	got = append(got, f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 3, After: next})...)
	require.Equal(t, append(slices.Clone(want), older.ARN), got, "the pages go on where they stopped; only the older execution joins them")
}

func testListBadFilters(t *testing.T, f *fixture) {
	f.start(f.running("x", f.base))
	_, _, err := f.store.Executions(f.ctx, engine.ExecutionFilter{})
	requireCode(t, err, sfn.CodeValidation)
	_, _, err = f.store.Executions(f.ctx, engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: -1})
	requireCode(t, err, sfn.CodeValidation)
	for _, after := range []string{"not a position", "bm90LWEtcG9zaXRpb24", "!!", "MTIz"} {
		_, _, err = f.store.Executions(f.ctx, engine.ExecutionFilter{StateMachineARN: f.smARN, After: after})
		requireCode(t, err, sfn.CodeInvalidToken)
	}
}

func testOpenExecutions(t *testing.T, f *fixture) {
	a := f.running("a", f.base.Add(time.Second))
	b := f.running("b", f.base)
	c := f.running("c", f.base)
	f.start(a, b, c)
	f.commit(commit(succeeded(c, f.base.Add(time.Minute), `{}`), 2, "ExecutionSucceeded", `{}`))
	aborted := a
	aborted.Status, aborted.StopDate, aborted.Error = sfn.StatusAborted, f.base.Add(time.Minute), "Stopped"

	open := func() []engine.ExecutionRecord {
		all, err := f.store.OpenExecutions(f.ctx)
		require.NoError(t, err)
		var own []engine.ExecutionRecord
		for _, r := range all {
			require.Equal(t, sfn.StatusRunning, r.Status)
			if r.StateMachineARN == f.smARN {
				own = append(own, r)
			}
		}
		return own
	}
	own := open()
	require.Len(t, own, 2)
	require.ElementsMatch(t, []string{a.ARN, b.ARN}, []string{own[0].ARN, own[1].ARN})
	for _, r := range own {
		want := a
		if r.ARN == b.ARN {
			want = b
		}
		requireRecord(t, want, r)
	}
	f.commit(commit(aborted, 2, "ExecutionAborted", `{}`))
	own = open()
	require.Len(t, own, 1)
	require.Equal(t, b.ARN, own[0].ARN)
}

func testConcurrentUse(t *testing.T, f *fixture) {
	const writers, perWriter, seqs = 4, 10, 3
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			var recs []engine.ExecutionRecord
			for i := range perWriter {
				recs = append(recs, f.running(fmt.Sprintf("w%d-%d", w, i), f.base.Add(time.Duration(i)*time.Second)))
			}
			for seq := int64(1); seq <= seqs; seq++ {
				commits := make([]engine.Commit, len(recs))
				for i, r := range recs {
					if seq == seqs {
						r = succeeded(r, f.base.Add(time.Hour), `{}`)
					}
					commits[i] = commit(r, seq, "Batch", fmt.Sprintf(`{"seq":%d}`, seq))
				}
				if err := f.store.Commit(f.ctx, commits); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var reads sync.WaitGroup
	reads.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, _, err := f.store.Executions(f.ctx, engine.ExecutionFilter{StateMachineARN: f.smARN, Limit: 5}); err != nil {
				errs <- err
				return
			}
			if _, err := f.store.Batches(f.ctx, f.execARN(f.smARN, "w0-0")); err != nil {
				errs <- err
				return
			}
			if _, err := f.store.OpenExecutions(f.ctx); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	reads.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	require.NoError(t, errors.Join(all...))

	arns := f.listAll(engine.ExecutionFilter{StateMachineARN: f.smARN, Status: sfn.StatusSucceeded, Limit: 7})
	require.Len(t, arns, writers*perWriter)
	for _, arn := range arns {
		f.requireBatches(arn, `{"seq":1}`, `{"seq":2}`, `{"seq":3}`)
	}
}

func testRacingCommits(t *testing.T, f *fixture) {
	const racers = 4
	// race commits one commit per racer at once, each with its own data,
	// and returns the index of the one that succeeded.
	race := func(commitOf func(i int) engine.Commit) int {
		t.Helper()
		errs := make([]error, racers)
		var wg sync.WaitGroup
		for i := range racers {
			wg.Go(func() { errs[i] = f.store.Commit(f.ctx, []engine.Commit{commitOf(i)}) })
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, won, "only one racer wins")
				won = i
				continue
			}
			requireCode(t, err, sfn.CodeConflict)
		}
		require.NotEqual(t, -1, won, "one racer wins")
		return won
	}
	r := f.running("raced", f.base)
	first := race(func(i int) engine.Commit {
		rec := r
		rec.Input = fmt.Sprintf(`{"racer":%d}`, i)
		return commit(rec, 1, "ExecutionStarted", fmt.Sprintf(`{"racer":%d}`, i))
	})
	second := race(func(i int) engine.Commit {
		return commit(succeeded(r, f.base.Add(time.Second), fmt.Sprintf(`{"racer":%d}`, i)), 2, "ExecutionSucceeded", fmt.Sprintf(`{"racer":%d}`, i))
	})
	f.requireBatches(r.ARN, fmt.Sprintf(`{"racer":%d}`, first), fmt.Sprintf(`{"racer":%d}`, second))
	got, _ := f.execution(r.ARN)
	require.Equal(t, fmt.Sprintf(`{"racer":%d}`, first), got.Input, "the summary is the winner's")
	require.Equal(t, fmt.Sprintf(`{"racer":%d}`, second), got.Output, "the summary is the winner's")
}
