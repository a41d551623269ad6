package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/aiflow/aiflow/internal/pgbinary"
)

// AlsoFunc runs statements of its own in the transaction of an append (see
// AppendManyWith).
type AlsoFunc func(ctx context.Context, tx pgx.Tx) error

// AppendManyWith is AppendMany that also runs also inside the append's
// transaction, after the events are written and before the commit, so that
// a service's own rows (an execution's summary beside its history) change
// with its events or not at all. An error from also rolls everything back
// and is returned wrapped, so errors.As finds the caller's own error types.
//
// also may run more than once: AppendMany retries a transaction that lost a
// race or a deadlock, and each attempt is a new transaction that calls also
// again. It runs even when every event was stored already (a retried
// append), and with no requests it runs alone in a transaction. The errors
// are those of Append, or also's.
func (s *Store) AppendManyWith(ctx context.Context, reqs []AppendRequest, also AlsoFunc) ([]AppendResult, error) {
	if also == nil {
		return s.AppendMany(ctx, reqs)
	}
	if len(reqs) == 0 {
		return nil, s.runAlone(ctx, alsoWrites{fn: also})
	}
	return s.appendMany(ctx, reqs, alsoWrites{fn: also})
}

// AlsoStatement is one statement, its parameters encoded already, that
// AppendManyWithStatement writes in an append's transaction. The
// parameters must stay unreleased until the call returns.
type AlsoStatement struct {
	Statement *pgbinary.Statement
	Params    *pgbinary.Params
}

// AppendManyWithStatement is AppendManyWith for what is one statement, which
// the append sends in its own pipeline, after the events' insert and
// before the NOTIFY, all one implicit transaction committed at the
// pipeline's end: one round trip for the whole append, where an AlsoFunc
// needs four (BEGIN, the append, its statements, COMMIT). When the append
// cannot decide alone (a conflict, a retry, a deadlock) it runs the
// statement in the transaction of its slow path, as AppendManyWith runs an
// AlsoFunc; an error of the statement is returned as AppendManyWith returns
// also's.
func (s *Store) AppendManyWithStatement(ctx context.Context, reqs []AppendRequest, also AlsoStatement) ([]AppendResult, error) {
	if also.Statement == nil || also.Params == nil {
		return nil, errors.New("appending events with a statement: no statement or no parameters given")
	}
	w := alsoWrites{st: &also, fn: func(ctx context.Context, tx pgx.Tx) error {
		_, err := also.Statement.Exec(ctx, tx.Conn(), also.Params)
		return err
	}}
	if len(reqs) == 0 {
		return nil, s.runAlone(ctx, w)
	}
	return s.appendMany(ctx, reqs, w)
}

// alsoWrites is what an append writes beside its events in its
// transaction: fn, run on the transaction, and when that is one statement,
// st, which the fast path sends in its pipeline instead. The zero value
// writes nothing.
type alsoWrites struct {
	fn AlsoFunc
	st *AlsoStatement
}

// runAlone runs also in a transaction of its own.
func (s *Store) runAlone(ctx context.Context, also alsoWrites) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	if err := runAlso(ctx, tx, also); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// runAlso calls also, when there is one, inside an append's transaction.
func runAlso(ctx context.Context, tx pgx.Tx, also alsoWrites) error {
	if also.fn == nil {
		return nil
	}
	if err := also.fn(ctx, tx); err != nil {
		return alsoFailed(err)
	}
	return nil
}

// alsoFailed is the error of an append whose also failed with err.
func alsoFailed(err error) error {
	return fmt.Errorf("running statements in the append's transaction: %w", err)
}
