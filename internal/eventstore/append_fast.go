package eventstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The one-statement append.
//
// Most appends are new events for streams at the version their writer
// expects. For those, appendFast does in one statement what appendOnce does
// in three round trips: it reads each stream's version where it must, takes
// the positions, and inserts the events and their event_ids rows. Without
// an AlsoFunc the statement and the NOTIFY go in one pipeline that
// PostgreSQL runs as one implicit transaction, committed at its end: one
// round trip for the whole append.
//
// A stream's version is its last event's, kept in event_ids, whose
// UNIQUE (stream_id, version) makes a version taken once; no row of its own
// is written for it. An append expecting Exact(v) writes versions
// v+1..v+n if v is stored (v = 0, NoStream: none needs to be); one
// expecting Any writes after the last version stored, under the stream's
// advisory lock (anyLockStatement). A writer that took v+1 first, committed
// or still running, breaks the unique index: the insert waits for its
// transaction and fails when it commits. So versions stay contiguous and
// each is taken once.
//
// The statement writes all of the append or fails: it never settles
// anything itself. A stream whose expected version is not stored gives its
// events a NULL version, which the NOT NULL of events.version and
// event_ids.version refuses; a version taken already breaks
// UNIQUE (stream_id, version), and an event id stored already the primary
// key of event_ids. Any of these rolls the whole transaction back, and
// appendMany then runs appendOnce, which tells a conflict from a retried
// append and a reused id from a retry. The guarantees are the database's own
// in both paths: the unique indexes of event_ids.

// appendStatement computes the versions ($1 stream ids in stream order, $2
// their expectations, $3 how many events each gets) and inserts the events
// ($4 to $10 and $12, in stream order, then in the order given; $5 is how
// far each is from its stream's last new event, $13 the 1-based index of
// its stream in $1, $14 whether each stream's expected version is known
// stored). It returns the transaction id and, in the same order, the
// positions and versions. An array indexed by stream, not a join, pairs
// each event with its stream's new version. Each stream's version is one
// probe of event_ids' unique index: whether the expected version is stored
// (Exact, unless the store knows it is: knownVersions), or the last one
// (Any).
//
// An event of a stream whose expected version is known stored takes its
// version from the parameters alone ($2 + $3 - $5, what versions would
// give it), so that versions, which PostgreSQL computes only when an event
// first reads it (an InitPlan), is never computed for an append whose
// expectations are all known stored: no row per stream is unnested,
// tested or aggregated then. That was about a twentieth of PostgreSQL's
// CPU for an append of 100 streams of one event (docs/performance.md).
//
// Positions are taken row by row as fresh produces the events, which it
// does in the order given (WITH ORDINALITY), so they rise in that order.
// Taking them first into an array (a generate_series of nextval, sorted,
// then indexed by each event's ordinal) cost about a tenth of the
// PostgreSQL CPU of a 1000-event append (docs/performance.md).
//
// $1 to $3 are read through sub-selects, which hide their lengths from the
// planner. Where the pool's connections cache statements, PostgreSQL
// plans the prepared statement once for any parameters (a generic plan) if
// that plan's estimated cost is no worse than a plan for the values at
// hand; a one-stream append, planned for its one probe, always looked
// cheaper than the generic plan's ten (the planner's guess for an array of
// unknown length), and so was planned anew every time, which cost more
// PostgreSQL CPU than the probe. The plan is the same for every length.
const appendStatement = `WITH req AS (
	SELECT id, expected, n, stored, idx FROM unnest((SELECT $1::text[]), (SELECT $2::bigint[]), (SELECT $3::bigint[]), (SELECT $14::bool[])) WITH ORDINALITY AS u(id, expected, n, stored, idx)
), versions AS (
	SELECT array_agg(CASE
		WHEN req.expected > 0 THEN CASE WHEN req.stored OR EXISTS (SELECT FROM eventstore.event_ids AS i WHERE i.stream_id = req.id AND i.version = req.expected) THEN req.expected + req.n END
		WHEN req.expected = 0 THEN req.n
		ELSE coalesce((SELECT max(i.version) FROM eventstore.event_ids AS i WHERE i.stream_id = req.id), 0) + req.n
	END ORDER BY req.idx) AS v FROM req
), fresh AS (
	SELECT e.ord, nextval('eventstore.position_seq') AS position, e.event_id, e.stream_id,
		CASE WHEN ($14::bool[])[e.sidx] THEN ($2::bigint[])[e.sidx] + ($3::bigint[])[e.sidx]
			ELSE (SELECT v FROM versions)[e.sidx] END - e.back AS version,
		e.type, e.schema_version, e.data, e.metadata, e.content_hash
	FROM unnest($4::text[], $13::int[], $5::bigint[], $6::uuid[], $7::text[], $8::int[], $9::text[]::json[], $10::text[]::jsonb[], $12::bytea[])
		WITH ORDINALITY AS e(stream_id, sidx, back, event_id, type, schema_version, data, metadata, content_hash, ord)
), stored AS (
	INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
	SELECT position, event_id, stream_id, version, type, schema_version, data, metadata, $11 FROM fresh
), ids AS (
	INSERT INTO eventstore.event_ids (event_id, stream_id, version, position, recorded_at, content_hash)
	SELECT event_id, stream_id, version, position, $11, content_hash FROM fresh
)
SELECT pg_current_xact_id()::text, array_agg(position ORDER BY ord), array_agg(version ORDER BY ord) FROM fresh`

// anyLockStatement takes, for the streams appended to with Any ($1 stream
// ids, $2 their expectations), a transaction-level advisory lock each, in
// the order of the locks' keys, so that concurrent appends take them in one
// order. Appends expecting Any to one stream then follow each other instead
// of reading the same last version and all but one failing; an append with
// an exact expectation needs no lock, since a stale one fails in the unique
// index. The locks are in their own space (the two-key form, whose first key
// names the event store's streams), write nothing to the WAL, and end with
// the transaction; two streams whose keys collide only wait for each other.
const anyLockStatement = `SELECT count(pg_advisory_xact_lock(hashtext('aiflow.eventstore.stream'), k)) FROM (
	SELECT DISTINCT hashtext(id) AS k FROM unnest($1::text[], $2::bigint[]) AS u(id, expected) WHERE expected = -1 ORDER BY k
) AS keys`

// fitsFastPath reports whether appendFast can take reqs: every request has
// events, and no stream has two requests (one statement may not move a row
// twice).
func fitsFastPath(reqs []preparedRequest) bool {
	if len(reqs) == 1 {
		return len(reqs[0].events) > 0
	}
	seen := make(map[string]struct{}, len(reqs))
	for _, r := range reqs {
		if len(r.events) == 0 {
			return false
		}
		if _, dup := seen[r.streamID]; dup {
			return false
		}
		seen[r.streamID] = struct{}{}
	}
	return true
}

// leftToSlowPath reports whether an error of appendFast means only that it
// could not decide alone: an expected version not stored, a version or an
// event id taken already, or a deadlock. Nothing was written; appendOnce
// settles it.
func leftToSlowPath(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "23502": // not_null_violation: a stream's expected version is not stored
		// (in event_ids or in the month's partition of events, whichever
		// insert runs first: no input of the statement is a version)
		return pgErr.SchemaName == "eventstore" && pgErr.ColumnName == "version"
	case "23505": // unique_violation
		return pgErr.ConstraintName == "event_ids_pkey" || pgErr.ConstraintName == "event_ids_stream_id_version_key"
	case "40P01": // deadlock_detected
		return true
	}
	return false
}

// appendFast appends reqs, which fitsFastPath took, in one statement. ok is
// false when the statement could not decide alone (see leftToSlowPath):
// nothing was written then, and the caller runs appendOnce.
func (s *Store) appendFast(ctx context.Context, reqs []preparedRequest, recordedAt time.Time, also alsoWrites) (res []AppendResult, ok bool, err error) {
	order := make([]int, len(reqs))
	total := 0
	anyExpected := false // some request expects Any: its stream is locked
	for i := range order {
		order[i] = i
		total += len(reqs[i].events)
		anyExpected = anyExpected || reqs[i].expected == Any
	}
	if len(reqs) > 1 {
		sort.Slice(order, func(a, b int) bool { return reqs[order[a]].streamID < reqs[order[b]].streamID })
	}
	s.known.markStored(reqs)
	p := getAppendParams()
	defer p.release()
	if err := p.encode(reqs, order, total, recordedAt); err != nil {
		return nil, false, err
	}

	var txText string
	var positions, versions []int64
	run := func(conn *pgx.Conn) (err error) {
		txText, positions, versions, err = s.runAppend(ctx, conn, p, anyExpected, also.st)
		return err
	}
	if also.fn == nil || also.st != nil {
		// One pipeline, one implicit transaction, committed at its end,
		// also's statement in it.
		var c *pgxpool.Conn
		if c, err = s.pool.Acquire(ctx); err == nil {
			err = run(c.Conn())
			c.Release()
		}
	} else {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			if err := run(tx.Conn()); err != nil {
				return err
			}
			if err := runAlso(ctx, tx, also); err != nil {
				return &alsoError{err: err}
			}
			return nil
		})
	}
	if err != nil {
		if leftToSlowPath(err) {
			return nil, false, nil
		}
		var alsoErr *alsoError
		if errors.As(err, &alsoErr) {
			return nil, false, alsoErr.err
		}
		return nil, false, fmt.Errorf("storing %d events: %w", total, err)
	}
	if len(positions) != total || len(versions) != total {
		return nil, false, fmt.Errorf("storing %d events: the statement returned %d positions and %d versions", total, len(positions), len(versions))
	}
	txID, err := parseXID8(txText)
	if err != nil {
		return nil, false, err
	}
	res = make([]AppendResult, len(reqs))
	k := 0
	for _, ri := range order {
		r := reqs[ri]
		out := AppendResult{StreamID: r.streamID, Events: make([]Event, len(r.events))}
		for j, p := range r.events {
			out.Events[j] = eventOf(r.streamID, p, versions[k], positions[k], recordedAt, txID)
			k++
		}
		out.Version = out.Events[len(out.Events)-1].Version
		res[ri] = out
	}
	return res, true, nil
}

// alsoError carries an AlsoFunc's error out of inTx untouched.
type alsoError struct{ err error }

func (e *alsoError) Error() string { return e.err.Error() }

// Unwrap lets leftToSlowPath see a deadlock in also's statements, which
// appendOnce retries as it always has.
func (e *alsoError) Unwrap() error { return e.err }

// inTx runs fn in a transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
