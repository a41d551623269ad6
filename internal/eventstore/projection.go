package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Projection is a read model kept from the event log: a handler plus the
// tables it owns. Its handler runs in the same transaction as its
// checkpoint, so each event changes the tables exactly once.
type Projection struct {
	// Name identifies the projection; its checkpoint is the subscription
	// "projection:<Name>".
	Name string
	// Schema holds the projection's tables, e.g. "api".
	Schema string
	// Tables are the tables the projection owns, unqualified.
	Tables []string
	// CreateFunc creates the tables under the names given. It runs for the
	// live tables when they do not exist, and for fresh tables on rebuild.
	CreateFunc func(ctx context.Context, tx pgx.Tx, t TableNames) error
	// HandleFunc applies one event to the tables.
	HandleFunc func(ctx context.Context, tx pgx.Tx, t TableNames, ev Event) error
}

// TableNames maps each of a projection's tables to the quoted, qualified
// name to use in SQL: the live table, or its fresh copy during a rebuild.
type TableNames map[string]string

var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,40}$`)

func (p Projection) validate() error {
	switch {
	case !identRE.MatchString(p.Name):
		return fmt.Errorf("projection %q: the name must be lowercase letters, digits and underscores (at most 41)", p.Name)
	case !identRE.MatchString(p.Schema):
		return fmt.Errorf("projection %q: schema %q is not a plain identifier", p.Name, p.Schema)
	case len(p.Tables) == 0:
		return fmt.Errorf("projection %q: no tables", p.Name)
	case p.CreateFunc == nil || p.HandleFunc == nil:
		return fmt.Errorf("projection %q: CreateFunc and HandleFunc are required", p.Name)
	}
	for _, t := range p.Tables {
		if !identRE.MatchString(t) {
			return fmt.Errorf("projection %q: table %q is not a plain identifier (at most 41 bytes)", p.Name, t)
		}
	}
	return nil
}

func (p Projection) subscriptionName() string { return "projection:" + p.Name }

func (p Projection) names(suffix string) TableNames {
	out := TableNames{}
	for _, t := range p.Tables {
		out[t] = pgx.Identifier{p.Schema, t + suffix}.Sanitize()
	}
	return out
}

// ProjectionOptions configure RunProjection and RebuildProjection.
type ProjectionOptions struct {
	// BatchSize is how many events one transaction applies; zero means 500.
	BatchSize int
	// PollInterval bounds the wait for new events; zero means one second.
	PollInterval time.Duration
	// RetryDelay is the first pause after an error; zero means 100ms.
	RetryDelay time.Duration
	// ProgressFunc, when set, is called after each batch of a rebuild.
	ProgressFunc func(RebuildProgress)
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
}

func (o *ProjectionOptions) defaults() {
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// RunProjection keeps the projection's live tables up to date until ctx
// ends, creating them when they do not exist. Like a subscription, one
// process holds it and others wait to take over. It returns ctx's error.
func (s *Store) RunProjection(ctx context.Context, p Projection, opts ProjectionOptions) error {
	if err := p.validate(); err != nil {
		return err
	}
	opts.defaults()
	if err := s.ensureLiveTables(ctx, p); err != nil {
		return err
	}
	live := p.names("")
	return retryUntilDone(ctx, opts.Logger, "projection "+p.Name, opts.RetryDelay, 30*time.Second, func(ctx context.Context) error {
		return s.runProjectionOnce(ctx, p, live, opts)
	})
}

func (s *Store) ensureLiveTables(ctx context.Context, p Projection) error {
	var missing bool
	for _, t := range p.Tables {
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{p.Schema, t}.Sanitize()).Scan(&exists); err != nil {
			return fmt.Errorf("looking up the tables of projection %s: %w", p.Name, err)
		}
		missing = missing || !exists
	}
	if !missing {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := p.CreateFunc(ctx, tx, p.names("")); err != nil {
			return fmt.Errorf("creating the tables of projection %s: %w", p.Name, err)
		}
		return nil
	})
}

func (s *Store) runProjectionOnce(ctx context.Context, p Projection, live TableNames, opts ProjectionOptions) error {
	conn, err := s.dialListener(ctx, p.subscriptionName())
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for {
		n, _, err := s.applyBatch(ctx, conn, p.subscriptionName(), p, live, opts.BatchSize)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		wait, cancel := context.WithTimeout(ctx, min(opts.PollInterval, 200*time.Millisecond))
		_, err = conn.WaitForNotification(wait)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("waiting for events: %w", err)
		}
	}
}

// applyBatch applies the next batch of events to the tables in names, in
// one transaction with the checkpoint named checkpoint, which it locks
// first: the checkpoint row is the truth, so a rebuild that swapped tables
// and moved the checkpoint is picked up by the next batch. It returns how
// many events it applied and the position of the last.
func (s *Store) applyBatch(ctx context.Context, q beginner, checkpoint string, p Projection, names TableNames, batch int) (int, int64, error) {
	var n int
	var last int64
	err := pgx.BeginFunc(ctx, q, func(tx pgx.Tx) error {
		cp, err := loadCheckpoint(ctx, tx, checkpoint)
		if err != nil {
			return err
		}
		evs, err := s.readCommitted(ctx, tx, cp, batch)
		if err != nil {
			return err
		}
		if cp, err = applyEvents(ctx, tx, p, names, cp, evs); err != nil {
			return err
		}
		n = len(evs)
		if n == 0 {
			return nil
		}
		last = cp.Position
		return setCheckpoint(ctx, tx, checkpoint, cp, int64(n), false)
	})
	return n, last, err
}

func applyEvents(ctx context.Context, tx pgx.Tx, p Projection, names TableNames, cp Checkpoint, evs []Event) (Checkpoint, error) {
	for _, ev := range evs {
		if err := p.HandleFunc(ctx, tx, names, ev); err != nil {
			return cp, fmt.Errorf("projection %s handling event %s (%s, position %d): %w", p.Name, ev.ID, ev.Type, ev.Position, err)
		}
		cp = Checkpoint{TxID: ev.TxID, Position: ev.Position}
	}
	return cp, nil
}

// setCheckpoint moves a checkpoint; handled is added to the count, or
// replaces it when reset is true.
func setCheckpoint(ctx context.Context, q interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}, name string, cp Checkpoint, handled int64, reset bool) error {
	_, err := q.Exec(ctx, `UPDATE eventstore.subscriptions
		SET checkpoint_tx = $2::text::xid8, checkpoint_pos = $3,
		    handled = CASE WHEN $5 THEN $4 ELSE handled + $4 END, updated_at = now()
		WHERE name = $1`, name, strconv.FormatUint(cp.TxID, 10), cp.Position, handled, reset)
	if err != nil {
		return fmt.Errorf("moving the checkpoint of %s: %w", name, err)
	}
	return nil
}

type beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// RebuildProgress reports a rebuild's advance.
type RebuildProgress struct {
	Applied  int64 // events applied to the fresh tables so far
	Total    int64 // events in the log when the rebuild started (an estimate: more may come)
	Position int64 // the last event applied
	Swapped  bool  // the fresh tables are live
}

// RebuildProjection replays the whole log from position zero into fresh
// copies of the projection's tables and, once they have caught up, swaps
// them in: in one transaction it applies the last events, renames the live
// tables away and the fresh ones into their place, and moves the
// checkpoint. Readers see the old model until that commit and the new one
// after it, never a half-built one; a running RunProjection carries on with
// the new tables. The old tables are dropped after the swap.
func (s *Store) RebuildProjection(ctx context.Context, p Projection, opts ProjectionOptions) error {
	if err := p.validate(); err != nil {
		return err
	}
	opts.defaults()
	if err := s.ensureLiveTables(ctx, p); err != nil {
		return err
	}
	suffix := "__rebuild_" + strconv.FormatInt(s.now().Unix(), 36)
	fresh := p.names(suffix)
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range p.Tables {
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+fresh[t]); err != nil {
				return err
			}
		}
		return p.CreateFunc(ctx, tx, fresh)
	}); err != nil {
		return fmt.Errorf("creating fresh tables for projection %s: %w", p.Name, err)
	}
	dropFresh := func() {
		for _, t := range p.Tables {
			_, _ = s.pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+fresh[t])
		}
	}

	var total int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM eventstore.events`).Scan(&total); err != nil {
		dropFresh()
		return fmt.Errorf("counting events: %w", err)
	}
	// The rebuild's own checkpoint, kept in the subscriptions table so that
	// the same batch code serves it.
	buildName := "rebuild:" + p.Name
	if _, err := s.pool.Exec(ctx, `DELETE FROM eventstore.subscriptions WHERE name = $1`, buildName); err != nil {
		dropFresh()
		return fmt.Errorf("resetting the rebuild checkpoint: %w", err)
	}
	var applied int64
	var last int64
	settleBy := time.Now().Add(5 * time.Second)
	for {
		n, pos, err := s.applyBatch(ctx, s.pool, buildName, p, fresh, opts.BatchSize)
		if err != nil {
			dropFresh()
			return err
		}
		applied += int64(n)
		if n > 0 {
			last = pos
		}
		if opts.ProgressFunc != nil && n > 0 {
			opts.ProgressFunc(RebuildProgress{Applied: applied, Total: max(total, applied), Position: last})
		}
		if n == opts.BatchSize {
			continue
		}
		// Caught up as far as is safe to read now. Events may be
		// committed but held back by an older transaction still running;
		// wait a little for them, so the swap has little left to apply.
		// Whatever is still pending at the swap, the live projection
		// applies next, from the checkpoint the swap sets.
		cp, err := s.checkpointOf(ctx, buildName)
		if err != nil {
			dropFresh()
			return err
		}
		pending, err := s.pendingAfter(ctx, s.pool, cp)
		if err != nil {
			dropFresh()
			return err
		}
		if !pending || time.Now().After(settleBy) {
			break
		}
		time.Sleep(unsafePause)
	}

	// The swap: lock the live checkpoint (a running projection waits),
	// apply what came since, rename, move the checkpoint.
	liveName := p.subscriptionName()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := loadCheckpoint(ctx, tx, liveName); err != nil {
			return err
		}
		cp, err := loadCheckpoint(ctx, tx, buildName)
		if err != nil {
			return err
		}
		for {
			evs, err := s.readCommitted(ctx, tx, cp, opts.BatchSize)
			if err != nil {
				return err
			}
			if cp, err = applyEvents(ctx, tx, p, fresh, cp, evs); err != nil {
				return err
			}
			applied += int64(len(evs))
			if len(evs) > 0 {
				last = cp.Position
			}
			if len(evs) < opts.BatchSize {
				break
			}
		}
		for _, t := range p.Tables {
			old := t + "__old" + suffix
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", pgx.Identifier{p.Schema, t}.Sanitize(), pgx.Identifier{old}.Sanitize())); err != nil {
				return fmt.Errorf("renaming %s.%s away: %w", p.Schema, t, err)
			}
			if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s RENAME TO %s", fresh[t], pgx.Identifier{t}.Sanitize())); err != nil {
				return fmt.Errorf("renaming the fresh %s into place: %w", t, err)
			}
			if _, err := tx.Exec(ctx, "DROP TABLE "+pgx.Identifier{p.Schema, old}.Sanitize()); err != nil {
				return fmt.Errorf("dropping the old %s: %w", t, err)
			}
		}
		if err := setCheckpoint(ctx, tx, liveName, cp, applied, true); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM eventstore.subscriptions WHERE name = $1`, buildName)
		return err
	})
	if err != nil {
		dropFresh()
		return fmt.Errorf("swapping in the rebuilt projection %s: %w", p.Name, err)
	}
	if opts.ProgressFunc != nil {
		opts.ProgressFunc(RebuildProgress{Applied: applied, Total: max(total, applied), Position: last, Swapped: true})
	}
	return nil
}

func (s *Store) checkpointOf(ctx context.Context, name string) (Checkpoint, error) {
	st, err := s.SubscriptionState(ctx, name)
	return st.Checkpoint, err
}
