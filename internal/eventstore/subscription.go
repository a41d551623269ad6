package eventstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// HandlerFunc handles one event of a subscription. An error makes the
// subscription retry the same event after a pause; the event is never
// skipped.
type HandlerFunc func(ctx context.Context, ev Event) error

// SubscriptionOptions configure Subscribe.
type SubscriptionOptions struct {
	// Name identifies the subscription and its checkpoint; processes that
	// run the same name share it: one holds it, the others wait.
	Name string
	// Handler receives every event once or more (at-least-once), in
	// commit-safe order.
	Handler HandlerFunc
	// BatchSize is how many events are read at a time and handled before
	// the checkpoint moves; zero means 100.
	BatchSize int
	// PollInterval bounds the wait for a notification before reading
	// again; zero means one second. Reads also happen on every commit.
	PollInterval time.Duration
	// RetryDelay is the first pause after a handler error or a lost
	// connection; it doubles up to MaxRetryDelay. Zero means 100ms and 30s.
	RetryDelay, MaxRetryDelay time.Duration
	// Logger receives errors and takeovers; nil discards them.
	Logger *slog.Logger
}

// Subscription is a durable, named subscription to every event.
type Subscription struct {
	store *Store
	opts  SubscriptionOptions
}

// Subscribe returns a subscription; Run starts it.
func (s *Store) Subscribe(opts SubscriptionOptions) (*Subscription, error) {
	if opts.Name == "" || len(opts.Name) > 200 {
		return nil, errors.New("subscribing: the name must be 1 to 200 bytes")
	}
	if opts.Handler == nil {
		return nil, fmt.Errorf("subscribing %q: no handler", opts.Name)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 100 * time.Millisecond
	}
	if opts.MaxRetryDelay <= 0 {
		opts.MaxRetryDelay = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Subscription{store: s, opts: opts}, nil
}

// ApplicationName is what a subscription's connection shows in
// pg_stat_activity.application_name.
func ApplicationName(subscription string) string { return "aiflow-subscription:" + subscription }

// lockKey is the advisory lock that says who holds a subscription.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("eventstore.subscription\x00" + name))
	return int64(h.Sum64())
}

// Run holds the subscription and delivers events until ctx ends, then
// returns ctx's error. While another process holds the subscription it
// waits, and takes over as soon as the holder's connection ends (the holder
// stopped, crashed, or lost its connection). A lost connection of its own
// is retried with backoff.
func (sub *Subscription) Run(ctx context.Context) error {
	return retryUntilDone(ctx, sub.opts.Logger, "subscription "+sub.opts.Name, sub.opts.RetryDelay, sub.opts.MaxRetryDelay, sub.runOnce)
}

// retryUntilDone runs once until ctx ends, pausing after each failure for
// a delay that starts at first and doubles up to max, and starts at first
// again after a run that was healthy for healthyRun (an outage long past
// does not slow the next reconnect). It returns ctx's error.
func retryUntilDone(ctx context.Context, logger *slog.Logger, what string, first, max time.Duration, once func(context.Context) error) error {
	delay := first
	for {
		started := time.Now()
		err := once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Since(started) >= healthyRun {
			delay = first
		}
		logger.Warn(what+" interrupted; reconnecting", "error", err, "retry_in", delay)
		if !sleep(ctx, delay) {
			return ctx.Err()
		}
		delay = min(delay*2, max)
	}
}

// healthyRun is how long a subscription or projection must have run
// before it failed for its reconnect backoff to start over.
const healthyRun = 10 * time.Second

// sleep waits for d, or less when ctx ends first; it reports whether the
// whole wait passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// runOnce opens the subscription's own connection, waits for the lock, and
// delivers events until the connection fails or ctx ends. Checkpoints are
// written on the same connection that holds the lock, so a process that
// lost the lock can never move the checkpoint.
func (sub *Subscription) runOnce(ctx context.Context) error {
	conn, err := sub.store.dialListener(ctx, sub.opts.Name)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())

	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey(sub.opts.Name)); err != nil {
		return fmt.Errorf("waiting to hold subscription %q: %w", sub.opts.Name, err)
	}
	sub.opts.Logger.Info("holding subscription", "subscription", sub.opts.Name)
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("listening for subscription %q: %w", sub.opts.Name, err)
	}
	cp, err := loadCheckpoint(ctx, conn, sub.opts.Name)
	if err != nil {
		return err
	}
	delay := sub.opts.RetryDelay
	for {
		evs, err := sub.store.readCommitted(ctx, conn, cp, sub.opts.BatchSize)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			// Events may be committed but not safe yet, held back by an
			// older transaction still running (of any writer, anywhere in
			// the cluster). No notification comes when that one ends, so
			// look again soon.
			pause := sub.opts.PollInterval
			if waiting, err := sub.store.pendingAfter(ctx, conn, cp); err != nil {
				return err
			} else if waiting {
				pause = min(pause, unsafePause)
			}
			wait, cancel := context.WithTimeout(ctx, pause)
			_, err := conn.WaitForNotification(wait)
			cancel()
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("waiting for events: %w", err)
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		handled := 0
		var handlerErr error
		for _, ev := range evs {
			if handlerErr = sub.opts.Handler(ctx, ev); handlerErr != nil {
				break
			}
			cp = Checkpoint{TxID: ev.TxID, Position: ev.Position}
			handled++
		}
		if handled > 0 {
			// Saved even when ctx just ended, so a stop does not make the
			// next holder handle these events again.
			saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			err := setCheckpoint(saveCtx, conn, sub.opts.Name, cp, int64(handled), false)
			cancel()
			if err != nil {
				return err
			}
		}
		if handlerErr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			sub.opts.Logger.Error("subscription handler failed; retrying the event", "subscription", sub.opts.Name,
				"event", evs[handled].ID, "type", evs[handled].Type, "error", handlerErr, "retry_in", delay)
			if !sleep(ctx, delay) {
				return ctx.Err()
			}
			delay = min(delay*2, sub.opts.MaxRetryDelay)
			continue
		}
		delay = sub.opts.RetryDelay
	}
}

// unsafePause is how soon a subscription looks again when committed events
// wait for an older transaction to end.
const unsafePause = 20 * time.Millisecond

// pendingAfter reports whether any event after cp exists, committed-safe
// or not; it is asked after a read in commit-safe order returned none.
func (s *Store) pendingAfter(ctx context.Context, q querier, cp Checkpoint) (bool, error) {
	var pending bool
	// Any event after cp counts: one that became safe since the read that
	// came back empty must not wait for the next notification either.
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM eventstore.events
		WHERE (tx_id, position) > ($1::text::xid8, $2))`,
		fmt.Sprint(cp.TxID), cp.Position).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("looking for events not yet safe to read: %w", err)
	}
	return pending, nil
}

// dialListener opens a connection of its own for the subscription name,
// outside the pool: it holds the subscription's lock and LISTENs, and when
// it closes PostgreSQL releases the lock for the next holder.
func (s *Store) dialListener(ctx context.Context, name string) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = ApplicationName(name)
	// The bounded waits for notifications end by deadline. pgx's default
	// would also send the server a cancel request, which can land on the
	// next query and cut the session (and the lock) for nothing.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting subscription %q: %w", name, err)
	}
	return conn, nil
}

// loadCheckpoint reads a subscription's checkpoint, making its row when it
// is new. Inside a transaction the upsert (ON CONFLICT DO UPDATE) also locks
// the row until the transaction ends, which is how a projection's batch and
// a rebuild's swap exclude each other.
func loadCheckpoint(ctx context.Context, q querier, name string) (Checkpoint, error) {
	var txText string
	var cp Checkpoint
	err := q.QueryRow(ctx, `INSERT INTO eventstore.subscriptions AS s (name) VALUES ($1)
		ON CONFLICT (name) DO UPDATE SET name = s.name
		RETURNING checkpoint_tx::text, checkpoint_pos`, name).Scan(&txText, &cp.Position)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("reading the checkpoint of %q: %w", name, err)
	}
	if cp.TxID, err = parseXID8(txText); err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}

// SubscriptionState is what the store knows of a subscription.
type SubscriptionState struct {
	Name       string
	Checkpoint Checkpoint
	Handled    int64
	UpdatedAt  time.Time
}

// SubscriptionState returns the named subscription's checkpoint; a
// subscription that never ran is at the zero Checkpoint.
func (s *Store) SubscriptionState(ctx context.Context, name string) (SubscriptionState, error) {
	st := SubscriptionState{Name: name}
	var txText string
	err := s.pool.QueryRow(ctx, `SELECT checkpoint_tx::text, checkpoint_pos, handled, updated_at
		FROM eventstore.subscriptions WHERE name = $1`, name).Scan(&txText, &st.Checkpoint.Position, &st.Handled, &st.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading subscription %q: %w", name, err)
	}
	st.Checkpoint.TxID, err = parseXID8(txText)
	return st, err
}
