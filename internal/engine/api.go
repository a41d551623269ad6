package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aiflow/aiflow/internal/sfn"
)

// ErrCommitRefused is what a Store's Commit error wraps when the store
// can never hold the commits as they are, for a reason that is no API
// error (the database refuses their data, say); see Store.
var ErrCommitRefused = errors.New("the store refuses the commits")

func errorf(code, format string, args ...any) *sfn.Error {
	return sfn.Errorf(code, format, args...)
}

// StateMachineRecord is a state machine as a Store keeps it.
type StateMachineRecord struct {
	ARN          string
	Name         string
	Definition   string
	RoleARN      string
	Type         string
	CreationDate time.Time
	UpdateDate   time.Time
	RevisionID   string
	// Status is "" or ACTIVE, or DELETING for a deleted state machine
	// whose executions still run (see versions.go).
	Status string
	// LastVersion is the number of the last version published, which is
	// never used again.
	LastVersion int
	// Tags are the state machine's tags.
	Tags map[string]string
}

// ExecutionRecord is the summary of an execution that a Store keeps
// beside its history, for describing and listing.
type ExecutionRecord struct {
	ARN             string
	StateMachineARN string
	Name            string
	Status          sfn.ExecutionStatus
	StartDate       time.Time
	StopDate        time.Time
	Input           string
	Output          string
	Error           string
	Cause           string
	TraceHeader     string
	// RedriveCount is how often the execution was redriven; RedriveDate
	// when last (zero if never).
	RedriveCount int
	RedriveDate  time.Time
	// VersionARN and AliasARN are the version and alias the execution
	// was started on, if any.
	VersionARN string
	AliasARN   string
}

// Commit is one transition of one execution: the execution's summary
// after it and one batch of history. Seq numbers an execution's commits
// from 1 without gaps; a Store refuses a commit whose Seq is not one past
// the last one it holds for that execution.
type Commit struct {
	Execution ExecutionRecord
	Seq       int64
	// Type names the batch, the type of its last history event.
	Type string
	// Data is the batch, a JSON object only the engine reads.
	Data json.RawMessage
	// Batch, set in place of Data only for a store that keeps batches as
	// values (a BatchKeeper), is the batch whose JSON is the Data.
	Batch *Batch
	// Events are the batch's history events (the ones in Data), for an
	// observer of the Store that derives something from them (the state
	// spans of tracing) without decoding Data; nil in a commit the engine
	// wrote in place of a refused one (see CommitEvents). A store need not
	// keep them, must not keep them once its Commit has returned (the
	// engine reuses their memory for later batches once a commit is
	// written), and nobody may change them.
	Events []sfn.HistoryEvent
	// Redrive marks the commit that redrives a closed execution: its
	// summary turns RUNNING again with a new RedriveCount and RedriveDate.
	Redrive bool
}

// ExecutionFilter selects executions to list.
type ExecutionFilter struct {
	StateMachineARN string
	Status          sfn.ExecutionStatus // empty means every status
	// Redrive selects executions redriven or never redriven; empty means
	// both.
	Redrive sfn.RedriveFilter
	// VersionARN and AliasARN, when set, keep the executions started on
	// that version or alias.
	VersionARN string
	AliasARN   string
	// After is the position to continue after (from a previous page), empty
	// for the first page.
	After string
	Limit int
}

// Store keeps state machines and executions. The engine calls Commit from
// a few writers at once (Config.CommitWriters), each with every transition
// of its executions that is ready; one execution's transitions always go
// through the same writer, in order. A durable Store should write a whole
// call in one transaction: that is the engine's group commit. Errors other than *sfn.Error are reported to callers
// as ServiceUnavailable and logged.
//
// Commit's error tells the engine whether to write the commits again. It
// does so, with backoff, for an error that may pass (the database is
// unavailable) and for a ServiceUnavailable or ExecutionLimitExceeded
// *sfn.Error. Any other *sfn.Error (a ConflictException, a
// ValidationException), and an error that wraps ErrCommitRefused, refuse
// the commits for good: the engine writes them again only split, to find
// the refused ones. It fails the execution of a commit refused for its
// data (ErrCommitRefused, ValidationException) with a commit of the same
// Seq holding its ExecutionFailed (States.Runtime) and no refused data,
// and drops the execution of one refused otherwise.
type Store interface {
	// PutStateMachine creates or replaces a state machine, and keeps its
	// revision (RevisionID, with its definition and role) for
	// StateMachineRevision.
	PutStateMachine(ctx context.Context, sm StateMachineRecord) error
	// StateMachineRevision returns the definition and role of a revision
	// of a state machine that PutStateMachine kept; ok is false for one it
	// never kept. A revision outlives its state machine, whose executions
	// may still run on it: an execution's first commit names the revision
	// it runs rather than carrying the definition.
	StateMachineRevision(ctx context.Context, stateMachineARN, revisionID string) (definition, roleARN string, ok bool, err error)
	// DeleteStateMachine removes a state machine; a missing one is no error.
	DeleteStateMachine(ctx context.Context, arn string) error
	// StateMachines returns every state machine.
	StateMachines(ctx context.Context) ([]StateMachineRecord, error)

	// Commit writes the commits in order, all or none. Several commits of
	// one execution may be in one call. The engine never changes a
	// commit's Data after the call, so a store may keep it.
	Commit(ctx context.Context, commits []Commit) error
	// Batches returns an execution's history batches (the Data of its
	// commits) in Seq order; a missing execution has none.
	Batches(ctx context.Context, executionARN string) ([]json.RawMessage, error)
	// Execution returns one execution's summary; ok is false when there is
	// none.
	Execution(ctx context.Context, arn string) (rec ExecutionRecord, ok bool, err error)
	// Executions lists executions of a state machine, newest start first,
	// and the After of the next page ("" at the end).
	Executions(ctx context.Context, f ExecutionFilter) (recs []ExecutionRecord, next string, err error)
	// OpenExecutions returns every execution whose status is RUNNING.
	OpenExecutions(ctx context.Context) ([]ExecutionRecord, error)

	VersionStore
}

// CommitEvents returns the history events of a commit's Data, in order,
// as a JSON array of events in Step Functions' shape (sfn.HistoryEvent):
// what an observer of the Store (a tracer deriving state spans, as Step
// Functions' X-Ray integration does) reads of a commit without knowing
// the rest of the engine's batch format.
//
// It finds the events without reading the rest of the batch, most of its
// bytes: a batch encodes its fields in the order of its struct, "start"
// (strings only) before "events" and the execution's data (which may
// hold any key) after, so the first "events" key is the batch's.
func CommitEvents(data json.RawMessage) (json.RawMessage, error) {
	if i := bytes.Index(data, eventsKey); i >= 0 {
		var events json.RawMessage
		if err := json.NewDecoder(bytes.NewReader(data[i+len(eventsKey):])).Decode(&events); err == nil {
			return events, nil
		}
	}
	var b struct {
		Events json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("reading the history events of a commit: %w", err)
	}
	return b.Events, nil
}

// eventsKey is the key of a batch's events as encoding/json writes it.
var eventsKey = []byte(`"events":`)
