package eventstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Direction is the order of a stream read.
type Direction int

const (
	// Forward reads from older to newer versions.
	Forward Direction = iota
	// Backward reads from newer to older versions.
	Backward
)

// ReadStreamOptions select a part of a stream.
type ReadStreamOptions struct {
	// From is the first version read: the oldest one read Forward, the
	// newest one read Backward. Zero means the start (Forward) or the end
	// (Backward).
	From int64
	// Direction is Forward unless set.
	Direction Direction
	// Limit bounds the events returned; zero means 1000.
	Limit int
}

const defaultLimit = 1000

// eventColumns are read by every query. The text casts have their own names
// so that ORDER BY tx_id sorts by the column, not by its text.
const eventColumns = `event_id::text AS event_id_text, stream_id, version, type, schema_version, data, metadata, recorded_at, position, tx_id::text AS tx_id_text`

// A stream is read through eventstore.event_ids, whose unique index on
// (stream_id, version) gives its versions in order (the partitions of
// eventstore.events have no index by stream: see migration 00015), and
// each event is fetched by its position from the partition of its month.
// The LATERAL subquery, which its LIMIT keeps from being flattened into a
// join (a position is one event), makes that a nested loop whatever the
// statistics: one index lookup per event read, never a scan of the log. Events of an
// archived month have no row to join and read as absent, as before.
const (
	streamEvents = `eventstore.event_ids AS i CROSS JOIN LATERAL (
		SELECT * FROM eventstore.events AS ev WHERE ev.position = i.position AND ev.recorded_at = i.recorded_at LIMIT 1) AS e`
	streamEventColumns = `e.event_id::text AS event_id_text, e.stream_id, e.version, e.type, e.schema_version, e.data, e.metadata, e.recorded_at, e.position, e.tx_id::text AS tx_id_text`
)

// ReadStream returns events of one stream, upcast to their current shapes.
// A stream that does not exist reads as empty.
func (s *Store) ReadStream(ctx context.Context, stream string, opts ReadStreamOptions) ([]Event, error) {
	if err := validateStreamID(stream); err != nil {
		return nil, err
	}
	limit := opts.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	var rows pgx.Rows
	var err error
	if opts.Direction == Backward {
		from := opts.From
		if from <= 0 {
			from = 1<<63 - 1
		}
		rows, err = s.pool.Query(ctx, `SELECT `+streamEventColumns+` FROM `+streamEvents+`
			WHERE i.stream_id = $1 AND i.version <= $2 ORDER BY i.version DESC LIMIT $3`, stream, from, limit)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+streamEventColumns+` FROM `+streamEvents+`
			WHERE i.stream_id = $1 AND i.version >= $2 ORDER BY i.version LIMIT $3`, stream, opts.From, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("reading stream %q: %w", stream, err)
	}
	evs, err := s.collect(rows)
	if err != nil {
		return nil, fmt.Errorf("reading stream %q: %w", stream, err)
	}
	return evs, nil
}

// ReadAll returns events after a global position, in position order,
// upcast to their current shapes. It reads what is committed now: an append
// still in flight may later fill a lower position, which a subscription
// (see Subscribe) would still deliver.
func (s *Store) ReadAll(ctx context.Context, afterPosition int64, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	rows, err := s.pool.Query(ctx, `SELECT `+eventColumns+` FROM eventstore.events
		WHERE position > $1 ORDER BY position LIMIT $2`, afterPosition, limit)
	if err != nil {
		return nil, fmt.Errorf("reading events after position %d: %w", afterPosition, err)
	}
	evs, err := s.collect(rows)
	if err != nil {
		return nil, fmt.Errorf("reading events after position %d: %w", afterPosition, err)
	}
	return evs, nil
}

// ReadCommitted returns events after a checkpoint in commit-safe order,
// (TxID, Position), and only events of transactions older than every
// transaction still running: no later commit can add an event before the
// last one returned. It is what subscriptions and projection rebuilds read.
func (s *Store) ReadCommitted(ctx context.Context, after Checkpoint, limit int) ([]Event, error) {
	return s.readCommitted(ctx, s.pool, after, limit)
}

func (s *Store) readCommitted(ctx context.Context, q querier, after Checkpoint, limit int) ([]Event, error) {
	if limit <= 0 {
		limit = defaultLimit
	}
	// The horizon is taken by a statement of its own, before the read: every
	// transaction below it had ended by then, so the read's (later) snapshot
	// sees all of their events, whatever snapshot a function inside the read
	// would see.
	var horizon string
	if err := q.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&horizon); err != nil {
		return nil, fmt.Errorf("reading the commit horizon: %w", err)
	}
	rows, err := q.Query(ctx, `SELECT `+eventColumns+` FROM eventstore.events
		WHERE (tx_id, position) > ($1::text::xid8, $2)
		  AND tx_id < $4::text::xid8
		ORDER BY tx_id, position LIMIT $3`, fmt.Sprint(after.TxID), after.Position, limit, horizon)
	if err != nil {
		return nil, fmt.Errorf("reading events after %v: %w", after, err)
	}
	evs, err := s.collect(rows)
	if err != nil {
		return nil, fmt.Errorf("reading events after %v: %w", after, err)
	}
	return evs, nil
}

func (s *Store) collect(rows pgx.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var (
			ev         Event
			id, txText string
			data, meta []byte
			recordedAt time.Time
		)
		if err := rows.Scan(&id, &ev.StreamID, &ev.Version, &ev.Type, &ev.SchemaVersion, &data, &meta, &recordedAt, &ev.Position, &txText); err != nil {
			return nil, err
		}
		var err error
		if ev.ID, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("reading event id %q: %w", id, err)
		}
		if ev.TxID, err = parseXID8(txText); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(meta, &ev.Metadata); err != nil {
			return nil, fmt.Errorf("reading the metadata of event %s: %w", ev.ID, err)
		}
		ev.Data = data
		ev.RecordedAt = recordedAt.UTC()
		if err := s.upcasters.apply(&ev); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, rows.Err()
}
