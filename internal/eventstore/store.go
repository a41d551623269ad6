// Package eventstore is aiflow's event log on PostgreSQL: streams with
// optimistic concurrency, appends of many streams in one transaction (group
// commit), reads by stream and by global position, durable subscriptions
// that never skip an event committed out of order, projections that rebuild
// without showing a half-built model, upcasting of old event shapes, and
// archival of whole months.
//
// Events live in eventstore.events, partitioned by the month they were
// recorded (UTC); the store creates each month's partition before it is
// needed. See docs/event-store.md for the design.
package eventstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// NotifyChannel is the PostgreSQL channel an append notifies on commit. The
// notification carries nothing: it only wakes subscribers, which then read
// the table.
const NotifyChannel = "aiflow_events"

// Options configure Open.
type Options struct {
	// Upcasters turn stored old shapes of events into current ones on read.
	Upcasters *Upcasters
	// NowFunc is the clock that stamps RecordedAt; nil means time.Now.
	NowFunc func() time.Time
	// NewIDFunc makes ids for events appended without one; nil means UUIDv7.
	NewIDFunc func() (uuid.UUID, error)
	// Logger receives what the store does on its own (partitions made);
	// nil discards it.
	Logger *slog.Logger
}

// Store is the event store on one database.
type Store struct {
	pool      *pgxpool.Pool
	upcasters *Upcasters
	now       func() time.Time
	newID     func() (uuid.UUID, error)
	logger    *slog.Logger
	// prepares is whether the pool's connections cache prepared
	// statements, pgx's default: the fast path's are then prepared on each.
	prepares bool

	mu         sync.Mutex
	partitions map[time.Time]bool // month starts known to exist

	known knownVersions // the streams' versions this store saw committed
}

// Open returns a store on pool, whose database must be migrated (aiflow
// migrate). It makes sure the partitions of this month and the next exist.
func Open(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	s := &Store{
		pool:       pool,
		upcasters:  opts.Upcasters,
		now:        opts.NowFunc,
		newID:      opts.NewIDFunc,
		logger:     opts.Logger,
		partitions: map[time.Time]bool{},
		prepares:   pool.Config().ConnConfig.DefaultQueryExecMode == pgx.QueryExecModeCacheStatement,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = uuid.NewV7
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.upcasters == nil {
		s.upcasters = NewUpcasters()
	}
	if err := s.ensurePartitions(ctx, s.now()); err != nil {
		return nil, err
	}
	return s, nil
}

// Pool returns the pool the store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// ensurePartitions makes sure the partitions for the month of t and the
// month after exist, so an append at a month boundary never waits on or
// fails for a missing partition.
func (s *Store) ensurePartitions(ctx context.Context, t time.Time) error {
	this := monthStart(t)
	next := this.AddDate(0, 1, 0)
	s.mu.Lock()
	done := s.partitions[this] && s.partitions[next]
	s.mu.Unlock()
	if done {
		return nil
	}
	for _, m := range []time.Time{this, next} {
		var name string
		if err := s.pool.QueryRow(ctx, "SELECT eventstore.ensure_partition($1)", m).Scan(&name); err != nil {
			return fmt.Errorf("making the event partition for %s: %w", m.Format("2006-01"), err)
		}
		s.mu.Lock()
		s.partitions[m] = true
		s.mu.Unlock()
		s.logger.Debug("event partition ready", "partition", name)
	}
	return nil
}

// AppendRequest is one stream's part of a group commit.
type AppendRequest struct {
	StreamID string
	Expected ExpectedVersion
	Events   []NewEvent
}

// AppendResult is what an append stored for one stream.
type AppendResult struct {
	StreamID string
	// Version is the stream's version after the append.
	Version int64
	// Events are the stored events, in the order given. An event that was
	// stored already (same id, same content) is reported as stored then.
	Events []Event
}

// Append appends events to one stream if it is at the expected version.
// It returns *ConflictError when it is not, *DuplicateEventError when an
// event id is used already with other content, and *InvalidError for bad
// input; in each case nothing is written. Events stored already with the
// same id and content are skipped, so a retried append succeeds without
// writing twice.
func (s *Store) Append(ctx context.Context, streamID string, expected ExpectedVersion, events ...NewEvent) (AppendResult, error) {
	res, err := s.AppendMany(ctx, []AppendRequest{{StreamID: streamID, Expected: expected, Events: events}})
	if err != nil {
		return AppendResult{}, err
	}
	return res[0], nil
}

// AppendMany appends to many streams in one transaction (group commit): all
// of it is stored, or none of it. Requests for the same stream apply in the
// order given. Errors are those of Append.
func (s *Store) AppendMany(ctx context.Context, reqs []AppendRequest) ([]AppendResult, error) {
	return s.appendMany(ctx, reqs, alsoWrites{})
}

// appendMany is AppendMany, writing also (when not zero) inside each
// attempt's transaction before it commits (see AppendManyWith).
func (s *Store) appendMany(ctx context.Context, reqs []AppendRequest, also alsoWrites) ([]AppendResult, error) {
	if len(reqs) == 0 {
		return nil, nil
	}
	batch, lazy, err := s.prepareBatch(reqs, false)
	if err != nil {
		return nil, err
	}
	res, err := s.appendPrepared(ctx, batch, also)
	if err != nil && lazy > 0 && isDataRefused(err) {
		// PostgreSQL refused data that only it checked (exactObjectQuick):
		// the whole check names the event, as it would have before.
		if _, _, checkErr := s.prepareBatch(reqs, true); checkErr != nil {
			return nil, checkErr
		}
	}
	return res, err
}

// isDataRefused reports whether PostgreSQL refused an event's data: not
// JSON (or not in the database's encoding), or not an object.
func isDataRefused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "22P02", "22021", "22P05", "23514": // invalid_text_representation, character_not_in_repertoire, untranslatable_character, check_violation
		return true
	}
	return false
}

// appendPrepared appends a prepared batch.
func (s *Store) appendPrepared(ctx context.Context, batch []preparedRequest, also alsoWrites) ([]AppendResult, error) {
	recordedAt := s.now().UTC().Truncate(time.Microsecond) // PostgreSQL keeps microseconds
	if err := s.ensurePartitions(ctx, recordedAt); err != nil {
		return nil, err
	}
	if fitsFastPath(batch) {
		res, ok, err := s.appendFast(ctx, batch, recordedAt, also)
		if ok || err != nil {
			if err == nil {
				s.known.record(res)
			}
			return res, err
		}
	}
	// A concurrent append of the same event ids can win the race between
	// our duplicate check and our insert; one more try then finds them.
	// A concurrent append can take a version between our read of it and
	// our insert; one more try then reports the conflict, finds the retry
	// that landed, or (Any) appends after it. Two group commits of the same
	// event ids in another order can deadlock on them; PostgreSQL aborts
	// one, which tries again.
	for attempt := 0; ; attempt++ {
		res, err := s.appendOnce(ctx, batch, recordedAt, also)
		switch {
		case attempt < 3 && (isUniqueViolation(err, "event_ids_pkey") || isDeadlock(err)):
			continue
		case isUniqueViolation(err, streamVersionKey):
			if attempt < maxVersionRaces {
				continue
			}
			return nil, fmt.Errorf("appending events: concurrent appends took the versions this append read %d times in a row: %w", attempt+1, ErrConflict)
		}
		if err == nil {
			s.known.record(res)
		}
		return res, err
	}
}

// streamVersionKey is the unique index of event_ids that makes a stream
// version taken once.
const streamVersionKey = "event_ids_stream_id_version_key"

// maxVersionRaces bounds how many times in a row appendMany tries again
// after a concurrent append took a version it read. Only an append
// expecting Any can lose more than once, and only to appends with an exact
// expectation (those expecting Any wait for each other's lock), each of
// which moved the stream.
const maxVersionRaces = 10

type preparedRequest struct {
	index    int // in the caller's slice
	streamID string
	expected ExpectedVersion
	stored   bool // expected is Exact(v), and v is known stored (knownVersions)
	events   []prepared
}

// prepareBatch checks and prepares an append's requests; with checkJSON
// false an ExactData event's Data is checked only as far as PostgreSQL
// does not check it (exactObjectQuick), and lazy counts such events.
func (s *Store) prepareBatch(reqs []AppendRequest, checkJSON bool) (_ []preparedRequest, lazy int, _ error) {
	out := make([]preparedRequest, 0, len(reqs))
	total := 0
	for _, r := range reqs {
		total += len(r.Events)
	}
	seen := make(map[uuid.UUID]string, total)
	st := preparing{checkJSON: checkJSON, hashes: make([]byte, 0, sha256.Size*total)}
	for i, r := range reqs {
		if err := validateStreamID(r.StreamID); err != nil {
			return nil, 0, err
		}
		if r.Expected < Any {
			return nil, 0, &InvalidError{StreamID: r.StreamID, Index: -1, Field: "expected version", Reason: fmt.Sprintf("%d is not Any, NoStream or a version", int64(r.Expected))}
		}
		pr := preparedRequest{index: i, streamID: r.StreamID, expected: r.Expected, events: make([]prepared, 0, len(r.Events))}
		for j, ev := range r.Events {
			p, err := prepare(r.StreamID, j, ev, s.newID, &st)
			if err != nil {
				return nil, 0, err
			}
			if other, dup := seen[p.id]; dup {
				return nil, 0, &InvalidError{StreamID: r.StreamID, Index: j, Field: "id", Reason: fmt.Sprintf("%s appears twice in one append (also in stream %q)", p.id, other)}
			}
			seen[p.id] = r.StreamID
			pr.events = append(pr.events, p)
		}
		out = append(out, pr)
	}
	return out, st.lazy, nil
}

type storedID struct {
	streamID   string
	version    int64
	position   int64
	recordedAt time.Time
	hash       []byte
}

func (s *Store) appendOnce(ctx context.Context, reqs []preparedRequest, recordedAt time.Time, also alsoWrites) ([]AppendResult, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("appending events: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit

	// 1. Events stored already: the same content is a no-op, other content
	// an error.
	var ids []string
	for _, r := range reqs {
		for _, p := range r.events {
			ids = append(ids, p.id.String())
		}
	}
	stored, err := storedIDs(ctx, tx, ids)
	if err != nil {
		return nil, err
	}

	results := make([]AppendResult, len(reqs))
	type pending struct {
		req     int
		ev      int
		version int64
	}
	var todo []pending

	// 2. The streams' versions, and the positions the new events will take:
	// one round trip for all of it. Streams appended to with Any are
	// locked first, in one order (anyLockStatement); the others need no
	// lock, since a version another writer takes first breaks the unique
	// index of event_ids when this append inserts it.
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return reqs[order[a]].streamID < reqs[order[b]].streamID })
	fresh := make([][]int, len(reqs)) // per request, the indexes of events not stored yet
	totalFresh := 0
	var streamIDs []string   // each stream once, in stream order
	var lockIDs []string     // the streams of requests that expect Any
	var lockExpected []int64 // Any, for each of lockIDs
	for _, ri := range order {
		r := reqs[ri]
		results[ri] = AppendResult{StreamID: r.streamID, Events: make([]Event, len(r.events))}
		if len(streamIDs) == 0 || streamIDs[len(streamIDs)-1] != r.streamID {
			streamIDs = append(streamIDs, r.streamID)
		}
		for j, p := range r.events {
			if st, ok := stored[p.id]; ok {
				if st.streamID != r.streamID || string(st.hash) != string(p.hash) {
					return nil, &DuplicateEventError{ID: p.id, StoredStreamID: st.streamID, StoredVersion: st.version}
				}
				results[ri].Events[j] = eventOf(r.streamID, p, st.version, st.position, st.recordedAt, 0)
				continue
			}
			fresh[ri] = append(fresh[ri], j)
		}
		totalFresh += len(fresh[ri])
		if r.expected == Any && len(fresh[ri]) > 0 {
			lockIDs, lockExpected = append(lockIDs, r.streamID), append(lockExpected, int64(Any))
		}
	}
	b := &pgx.Batch{}
	if len(lockIDs) > 0 {
		b.Queue(anyLockStatement, lockIDs, lockExpected)
	}
	b.Queue(streamVersionsStatement, streamIDs)
	b.Queue(`SELECT coalesce(array_agg(nextval('eventstore.position_seq') ORDER BY g), '{}'), pg_current_xact_id()::text
		FROM generate_series(1, $1) g`, totalFresh)
	br := tx.SendBatch(ctx, b)
	var current map[string]int64
	if len(lockIDs) > 0 {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return nil, fmt.Errorf("locking the streams appended to with any version: %w", err)
		}
	}
	current, err = readStreamVersions(br)
	if err != nil {
		br.Close()
		return nil, err
	}
	var positions []int64
	var txText string
	if err := br.QueryRow().Scan(&positions, &txText); err != nil {
		br.Close()
		return nil, fmt.Errorf("taking positions: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("reading stream versions: %w", err)
	}
	// Each request in turn against its stream's version, which moves with
	// every request that appends to it (requests for one stream apply in
	// the order given).
	moved := make([]bool, len(reqs)) // the stream's version moved by this append
	for _, ri := range order {
		r := reqs[ri]
		v := current[r.streamID]
		results[ri].Version = v
		n := int64(len(fresh[ri]))
		if n == 0 || (r.expected != Any && int64(r.expected) != v) {
			continue // nothing new, or a conflict (or a retry) settled below
		}
		moved[ri] = true
		current[r.streamID] = v + n
		results[ri].Version = v + n
	}
	for _, ri := range order {
		r := reqs[ri]
		if len(fresh[ri]) == 0 || moved[ri] {
			continue
		}
		// The same events may just have been committed by a concurrent
		// retry of this append, which then moved the version: that is
		// success, not a conflict.
		evs, ok, err := sameEventsStored(ctx, tx, r, fresh[ri])
		if err != nil {
			return nil, err
		}
		actual, err := currentVersion(ctx, tx, r.streamID)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &ConflictError{StreamID: r.streamID, Expected: r.expected, Actual: actual}
		}
		for k, j := range fresh[ri] {
			results[ri].Events[j] = evs[k]
		}
		results[ri].Version = actual
		fresh[ri] = nil
	}
	for _, ri := range order {
		if !moved[ri] {
			continue
		}
		n := int64(len(fresh[ri]))
		for k, j := range fresh[ri] {
			todo = append(todo, pending{req: ri, ev: j, version: results[ri].Version - n + int64(k) + 1})
		}
	}
	if len(todo) == 0 {
		if err := runAlso(ctx, tx, also); err != nil {
			return nil, err
		}
		return results, tx.Commit(ctx)
	}

	// 3. The rows, in one round trip (positions unused by a settled retry
	// leave a gap, which is harmless).
	txID, err := parseXID8(txText)
	if err != nil {
		return nil, err
	}
	sort.Slice(positions, func(a, b int) bool { return positions[a] < positions[b] })
	n := len(todo)
	var (
		evIDs    = make([]string, n)
		streams  = make([]string, n)
		versions = make([]int64, n)
		types    = make([]string, n)
		schemas  = make([]int32, n)
		datas    = make([]string, n)
		metas    = make([]string, n)
		hashes   = make([][]byte, n)
	)
	for k, t := range todo {
		r := reqs[t.req]
		p := r.events[t.ev]
		evIDs[k], streams[k], versions[k], types[k] = p.id.String(), r.streamID, t.version, p.typ
		schemas[k], datas[k], metas[k], hashes[k] = int32(p.schemaVersion), string(p.data), string(p.metadata), p.hash
		results[t.req].Events[t.ev] = eventOf(r.streamID, p, t.version, positions[k], recordedAt, txID)
	}
	positions = positions[:n]
	b = &pgx.Batch{}
	b.Queue(`INSERT INTO eventstore.events (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
		SELECT position, event_id, stream_id, version, type, schema_version, data, metadata, $9
		FROM unnest($1::bigint[], $2::text[]::uuid[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[]::json[], $8::text[]::jsonb[])
		AS u(position, event_id, stream_id, version, type, schema_version, data, metadata)`,
		positions, evIDs, streams, versions, types, schemas, datas, metas, recordedAt)
	b.Queue(`INSERT INTO eventstore.event_ids (event_id, stream_id, version, position, recorded_at, content_hash)
		SELECT event_id, stream_id, version, position, $5, content_hash
		FROM unnest($1::text[]::uuid[], $2::text[], $3::bigint[], $4::bigint[], $6::bytea[])
		AS u(event_id, stream_id, version, position, content_hash)`,
		evIDs, streams, versions, positions, recordedAt, hashes)
	b.Queue(`SELECT pg_notify($1, '')`, NotifyChannel)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("storing %d events: %w", n, err)
	}
	if err := runAlso(ctx, tx, also); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("committing %d events: %w", n, err)
	}
	return results, nil
}

// sameEventsStored reports whether every event of r at the indexes fresh is
// stored now with the same content (a statement in a READ COMMITTED
// transaction sees what committed since the transaction began).
func sameEventsStored(ctx context.Context, tx pgx.Tx, r preparedRequest, fresh []int) ([]Event, bool, error) {
	ids := make([]string, len(fresh))
	for k, j := range fresh {
		ids[k] = r.events[j].id.String()
	}
	found, err := storedIDs(ctx, tx, ids)
	if err != nil {
		return nil, false, err
	}
	out := make([]Event, len(fresh))
	for k, j := range fresh {
		p := r.events[j]
		st, ok := found[p.id]
		if !ok || st.streamID != r.streamID || string(st.hash) != string(p.hash) {
			return nil, false, nil
		}
		out[k] = eventOf(r.streamID, p, st.version, st.position, st.recordedAt, 0)
	}
	return out, true, nil
}

// storedIDs looks up which of ids are stored already, and where.
func storedIDs(ctx context.Context, tx pgx.Tx, ids []string) (map[uuid.UUID]storedID, error) {
	rows, err := tx.Query(ctx, `SELECT event_id::text, stream_id, version, position, recorded_at, content_hash
		FROM eventstore.event_ids WHERE event_id = ANY($1::text[]::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("checking event ids: %w", err)
	}
	defer rows.Close()
	found := map[uuid.UUID]storedID{}
	for rows.Next() {
		var id string
		var st storedID
		if err := rows.Scan(&id, &st.streamID, &st.version, &st.position, &st.recordedAt, &st.hash); err != nil {
			return nil, fmt.Errorf("checking event ids: %w", err)
		}
		parsed, err := uuid.Parse(id)
		if err != nil {
			return nil, fmt.Errorf("checking event ids: %w", err)
		}
		found[parsed] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("checking event ids: %w", err)
	}
	return found, nil
}

func eventOf(stream string, p prepared, version, position int64, recordedAt time.Time, txID uint64) Event {
	return Event{
		ID: p.id, StreamID: stream, Version: version, Type: p.typ, SchemaVersion: p.schemaVersion,
		Data: p.data, Metadata: p.meta, RecordedAt: recordedAt, Position: position, TxID: txID,
	}
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// streamVersionsStatement reads the version of each stream of $1 (each
// once): its last event's, 0 when it has none, by one probe of event_ids'
// unique index each.
const streamVersionsStatement = `SELECT u.id, coalesce((SELECT max(i.version) FROM eventstore.event_ids AS i WHERE i.stream_id = u.id), 0)
	FROM unnest($1::text[]) AS u(id)`

// readStreamVersions reads the result of streamVersionsStatement.
func readStreamVersions(br pgx.BatchResults) (map[string]int64, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("reading stream versions: %w", err)
	}
	defer rows.Close()
	versions := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("reading stream versions: %w", err)
		}
		versions[id] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading stream versions: %w", err)
	}
	return versions, nil
}

func currentVersion(ctx context.Context, q querier, stream string) (int64, error) {
	var v int64
	err := q.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM eventstore.event_ids WHERE stream_id = $1`, stream).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("reading the version of stream %q: %w", stream, err)
	}
	return v, nil
}

// StreamVersion returns the stream's current version, 0 when it has no
// event.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	return currentVersion(ctx, s.pool, stream)
}

func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == constraint
}

func isDeadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

// parseXID8 reads an xid8 sent as text.
func parseXID8(s string) (uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading transaction id %q: %w", s, err)
	}
	return v, nil
}
