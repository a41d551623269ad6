package eventstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
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
		return nil, s.runAlone(ctx, also)
	}
	return s.appendMany(ctx, reqs, also)
}

// runAlone runs also in a transaction of its own.
func (s *Store) runAlone(ctx context.Context, also AlsoFunc) error {
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
func runAlso(ctx context.Context, tx pgx.Tx, also AlsoFunc) error {
	if also == nil {
		return nil
	}
	if err := also(ctx, tx); err != nil {
		return fmt.Errorf("running statements in the append's transaction: %w", err)
	}
	return nil
}
