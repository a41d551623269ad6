// Package enginestore is the local engine's Store on PostgreSQL: state
// machines and execution summaries in tables of the engine schema, and
// each execution's history in the event store, one stream per execution.
// A Commit call is one transaction that appends the history batches and
// updates the summaries together: the engine's group commit.
//
// An execution's stream is named by eventstore.ExecutionStreamID and holds one event per
// commit: the event's type is the commit's Type, its data the commit's
// Data, its version the commit's Seq and its id EventID(stream, Seq,
// StartDate), so a commit retried after it landed finds itself stored and
// writes nothing twice.
package enginestore

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/batchcall"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Store is the engine's Store on PostgreSQL. It is safe for concurrent
// use. Errors other than *sfn.Error carry the database's message but
// none of its types.
type Store struct {
	pool   *pgxpool.Pool
	events *eventstore.Store
	// reads batches the reads of single executions (see reads.go).
	reads batchcall.Group[string, readResult]
	// revisions are the state machines' revisions read so far, which
	// never change: each is read once.
	revisions sync.Map // revisionKey -> revisionText
}

// revisionKey is a revision of a state machine, and revisionText its
// definition and role.
type (
	revisionKey  struct{ machine, id string }
	revisionText struct{ definition, roleARN string }
)

var _ engine.Store = (*Store)(nil)

// New returns a Store on pool, whose database must be migrated, appending
// histories to events (which should be open on the same database: a commit
// is one transaction of events' pool).
func New(ctx context.Context, pool *pgxpool.Pool, events *eventstore.Store) (*Store, error) {
	var ready, revisions bool
	err := pool.QueryRow(ctx, `SELECT to_regclass('engine.executions') IS NOT NULL AND to_regclass('engine.state_machines') IS NOT NULL,
		to_regprocedure('engine.keep_revision()') IS NOT NULL`).Scan(&ready, &revisions)
	if err != nil {
		return nil, opaque("opening the engine store", err)
	}
	if !ready {
		return nil, errors.New("opening the engine store: the database has no engine.executions or engine.state_machines table; migrate it first (aiflow migrate up)")
	}
	if !revisions {
		// An execution names its state machine's revision, which only a
		// database that keeps every revision can give back.
		return nil, errors.New("opening the engine store: the database does not keep state machines' revisions (migration 00021); migrate it first (aiflow migrate up)")
	}
	s := &Store{pool: pool, events: events}
	s.reads = batchcall.Group[string, readResult]{Run: s.readSummaries, Max: maxReadBatch, Timeout: readBatchTimeout, LeaveAbandoned: true}
	return s, nil
}

// commitNamespace is the namespace of the hash in commit event ids.
var commitNamespace = uuid.MustParse("cd3ec085-bfff-4b4e-98d0-3eefed1708e0")

// EventID is the id of the event that holds commit seq of stream, an
// execution started at start: eventstore.OrderedID of start and of the
// SHA-1 of commitNamespace and stream + "#" + seq (a UUIDv5's hash), so
// the same on every try, and in the order of the executions' starts. An
// execution's start is in every commit of it
// (engine.ExecutionRecord.StartDate), fixed from its first, and the id's
// milliseconds survive the store's microseconds. Releases before this
// one wrote the hash alone, a UUIDv5: only a retry of the same commit, by
// the same process, compares ids, so the two kinds never meet.
//
// It is written out so that it allocates nothing for a stream id of up
// to 200 bytes (every commit of every group takes one).
func EventID(stream string, seq int64, start time.Time) uuid.UUID {
	var buf [len(commitNamespace) + 200 + 1 + 20]byte
	b := append(buf[:0], commitNamespace[:]...)
	b = append(b, stream...)
	b = append(b, '#')
	b = strconv.AppendInt(b, seq, 10)
	sum := sha1.Sum(b)
	return eventstore.OrderedID(start, sum[:])
}

// storeTime is t as the store keeps it: microseconds, UTC.
func storeTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Truncate(time.Microsecond).UTC()
}

// opaque reports a database failure with its message but not its type:
// pgx errors do not leave this package. A context's end stays matchable.
func opaque(doing string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	return fmt.Errorf("%s: %s", doing, err.Error())
}

// PutStateMachine creates or replaces a state machine. It returns a
// ValidationException *sfn.Error when the ARN is empty.
func (s *Store) PutStateMachine(ctx context.Context, sm engine.StateMachineRecord) error {
	if sm.ARN == "" {
		return &sfn.Error{Code: sfn.CodeValidation, Message: fmt.Sprintf("state machine %q: the ARN is empty", sm.Name)}
	}
	status := sm.Status
	if status == "" {
		status = sfn.StateMachineActive
	}
	tags := sm.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	// The database keeps the revision (a trigger of migration 00021, for
	// every writer of the table).
	_, err := s.pool.Exec(ctx, `INSERT INTO engine.state_machines AS m
		(arn, name, definition, role_arn, type, creation_date, update_date, revision_id, status, last_version, tags)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (arn) DO UPDATE SET name = EXCLUDED.name, definition = EXCLUDED.definition,
			role_arn = EXCLUDED.role_arn, type = EXCLUDED.type, creation_date = EXCLUDED.creation_date,
			update_date = EXCLUDED.update_date, revision_id = EXCLUDED.revision_id,
			status = EXCLUDED.status, last_version = EXCLUDED.last_version, tags = EXCLUDED.tags`,
		sm.ARN, sm.Name, sm.Definition, sm.RoleARN, sm.Type, storeTime(sm.CreationDate), storeTime(sm.UpdateDate), sm.RevisionID,
		status, sm.LastVersion, tags)
	if err != nil {
		return opaque("storing state machine "+sm.ARN, err)
	}
	return nil
}

// StateMachineRevision returns a revision PutStateMachine kept, from
// memory once read.
func (s *Store) StateMachineRevision(ctx context.Context, stateMachineARN, revisionID string) (definition, roleARN string, ok bool, err error) {
	k := revisionKey{stateMachineARN, revisionID}
	if t, kept := s.revisions.Load(k); kept {
		t := t.(revisionText)
		return t.definition, t.roleARN, true, nil
	}
	err = s.pool.QueryRow(ctx, `SELECT definition, role_arn FROM engine.state_machine_revisions
		WHERE state_machine_arn = $1 AND revision_id = $2`, stateMachineARN, revisionID).Scan(&definition, &roleARN)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return "", "", false, nil
	case err != nil:
		return "", "", false, opaque("reading revision "+revisionID+" of state machine "+stateMachineARN, err)
	}
	s.revisions.Store(k, revisionText{definition, roleARN})
	return definition, roleARN, true, nil
}

// DeleteStateMachine removes a state machine (its revisions stay, for its
// executions, which stay too).
func (s *Store) DeleteStateMachine(ctx context.Context, arn string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM engine.state_machines WHERE arn = $1`, arn); err != nil {
		return opaque("deleting state machine "+arn, err)
	}
	return nil
}

// StateMachines returns every state machine in ARN order.
func (s *Store) StateMachines(ctx context.Context) ([]engine.StateMachineRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT arn, name, definition, role_arn, type, creation_date, update_date, revision_id,
		status, last_version, tags FROM engine.state_machines ORDER BY arn`)
	if err != nil {
		return nil, opaque("reading state machines", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (engine.StateMachineRecord, error) {
		var sm engine.StateMachineRecord
		err := row.Scan(&sm.ARN, &sm.Name, &sm.Definition, &sm.RoleARN, &sm.Type, &sm.CreationDate, &sm.UpdateDate, &sm.RevisionID,
			&sm.Status, &sm.LastVersion, &sm.Tags)
		sm.CreationDate, sm.UpdateDate = storeTime(sm.CreationDate), storeTime(sm.UpdateDate)
		if sm.Status == sfn.StateMachineActive {
			sm.Status = ""
		}
		if len(sm.Tags) == 0 {
			sm.Tags = nil
		}
		return sm, err
	})
	if err != nil {
		return nil, opaque("reading state machines", err)
	}
	return out, nil
}

// Batches returns an execution's batches in Seq order; nil for an unknown
// execution.
func (s *Store) Batches(ctx context.Context, executionARN string) ([]json.RawMessage, error) {
	const page = 1000
	stream := eventstore.ExecutionStreamID(executionARN)
	var out []json.RawMessage
	for from := int64(1); ; {
		evs, err := s.events.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Limit: page})
		if err != nil {
			return nil, opaque("reading the history of "+executionARN, err)
		}
		for _, ev := range evs {
			out = append(out, ev.Data)
		}
		if len(evs) < page {
			return out, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// executionColumns are read by Execution and OpenExecutions;
// listColumns, by Executions, leave out the input and the output.
const (
	executionColumns = `arn, state_machine_arn, name, status, start_date, stop_date, input, output, error, cause, trace_header, redrive_count, redrive_date, version_arn, alias_arn`
	listColumns      = `arn, state_machine_arn, name, status, start_date, stop_date, '', '', error, cause, trace_header, redrive_count, redrive_date, version_arn, alias_arn`
)

func scanExecution(row pgx.CollectableRow) (engine.ExecutionRecord, error) {
	var (
		r       engine.ExecutionRecord
		status  string
		stop    *time.Time
		redrive *time.Time
	)
	if err := row.Scan(&r.ARN, &r.StateMachineARN, &r.Name, &status, &r.StartDate, &stop, &r.Input, &r.Output, &r.Error, &r.Cause, &r.TraceHeader,
		&r.RedriveCount, &redrive, &r.VersionARN, &r.AliasARN); err != nil {
		return r, err
	}
	if redrive != nil {
		r.RedriveDate = storeTime(*redrive)
	}
	r.Status = sfn.ExecutionStatus(status)
	r.StartDate = storeTime(r.StartDate)
	if stop != nil {
		r.StopDate = storeTime(*stop)
	}
	return r, nil
}

// Executions lists a state machine's executions, newest start first (the
// greater ARN first on a tie), without their Input and Output. Its errors
// are those of engine.CheckExecutionFilter.
func (s *Store) Executions(ctx context.Context, f engine.ExecutionFilter) ([]engine.ExecutionRecord, string, error) {
	page, err := engine.CheckExecutionFilter(f)
	if err != nil {
		return nil, "", err
	}
	query := `SELECT ` + listColumns + ` FROM engine.executions WHERE state_machine_arn = $1`
	args := []any{f.StateMachineARN}
	if f.Status != "" {
		args = append(args, string(f.Status))
		query += ` AND status = $` + strconv.Itoa(len(args))
	}
	query += redriveCondition(f.Redrive)
	if f.VersionARN != "" {
		args = append(args, f.VersionARN)
		query += ` AND version_arn = $` + strconv.Itoa(len(args))
	}
	if f.AliasARN != "" {
		args = append(args, f.AliasARN)
		query += ` AND alias_arn = $` + strconv.Itoa(len(args))
	}
	if page.HasAfter {
		args = append(args, time.UnixMicro(page.AfterStart).UTC(), page.AfterARN)
		query += fmt.Sprintf(` AND (start_date, arn) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, page.Limit+1)
	query += ` ORDER BY start_date DESC, arn DESC LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, "", opaque("listing executions of "+f.StateMachineARN, err)
	}
	recs, err := pgx.CollectRows(rows, scanExecution)
	if err != nil {
		return nil, "", opaque("listing executions of "+f.StateMachineARN, err)
	}
	if len(recs) <= page.Limit {
		return recs, "", nil
	}
	recs = recs[:page.Limit]
	last := recs[len(recs)-1]
	return recs, engine.ExecutionCursor(last.StartDate, last.ARN), nil
}

// OpenExecutions returns every RUNNING execution, oldest start first.
func (s *Store) OpenExecutions(ctx context.Context) ([]engine.ExecutionRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+` FROM engine.executions
		WHERE status = 'RUNNING' ORDER BY start_date, arn`)
	if err != nil {
		return nil, opaque("reading open executions", err)
	}
	recs, err := pgx.CollectRows(rows, scanExecution)
	if err != nil {
		return nil, opaque("reading open executions", err)
	}
	return recs, nil
}

// isUniqueViolation reports whether err is a unique violation of the
// constraint.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}
