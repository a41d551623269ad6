package eventstore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ArchiveFormat is the version of the archive file formats that Archive
// writes and Restore reads; docs/event-store-archive.md describes it.
const ArchiveFormat = 1

// ArchiveSink is where archived months go: a folder or an S3 bucket
// (package archivesink has both). Names are slash-separated and relative
// to the sink.
type ArchiveSink interface {
	// Put stores body under name, replacing what was there. It reads body
	// to its end or returns an error; a name is never left half-written.
	Put(ctx context.Context, name string, body io.Reader) error
	// Get opens what is stored under name. It returns an error matching
	// ErrArchiveObjectNotFound when nothing is.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
}

// ArchiveOptions configure Archive.
type ArchiveOptions struct {
	// Before is the start of a UTC month: every month before it is
	// archived. It may not be later than the start of the store's current
	// month.
	Before time.Time
	// Sink receives the archive files.
	Sink ArchiveSink
	// ProgressFunc, when set, is called after each month is archived and
	// its partition dropped.
	ProgressFunc func(ArchivedPartition)
}

// ArchivedPartition describes one archived month: what its manifest says.
type ArchivedPartition struct {
	// Partition is the table the month lived in, e.g. events_2031_01.
	Partition string
	// Month is the first instant of the month (UTC).
	Month time.Time
	// Events is how many events the month held.
	Events int64
	// MinPosition and MaxPosition are the lowest and highest positions of
	// those events; both are 0 when there are none.
	MinPosition, MaxPosition int64
	// SHA256 is the hex SHA-256 of the uncompressed JSON lines.
	SHA256 string
	// Object is the name of the events file in the sink, e.g.
	// events-2031-01.jsonl.gz.
	Object string
	// Manifest is the name of the manifest in the sink, e.g.
	// events-2031-01.manifest.json.
	Manifest string
	// ArchivedAt is when the month was written out (the store's clock).
	ArchivedAt time.Time
}

// ErrCurrentMonth is matched by the error Archive returns when asked to
// archive the store's current month or a later one.
var ErrCurrentMonth = errors.New("eventstore: refusing to archive the current month")

// ErrPartitionExists is matched by the error Restore returns when the
// month's partition is in the database already.
var ErrPartitionExists = errors.New("eventstore: partition exists already")

// ErrArchiveObjectNotFound is matched by the error a sink's Get returns
// when nothing is stored under the name.
var ErrArchiveObjectNotFound = errors.New("eventstore: archive object not found")

// ErrVerification is matched by every *VerificationError.
var ErrVerification = errors.New("eventstore: archive verification failed")

// VerificationError is returned by Archive when what the sink gives back
// differs from what was written or from the database (nothing is dropped
// then), and by Restore when an archive does not match its manifest
// (nothing is written then).
type VerificationError struct {
	// Object is the file or table checked, e.g. events-2031-01.jsonl.gz.
	Object string
	// What names what differed: "sha256", "events", "line 3", ...
	What string
	// Want is what the manifest (or the database) says; Got is what was
	// found.
	Want, Got string
}

func (e *VerificationError) Error() string {
	if e.Want == "" {
		return fmt.Sprintf("verifying %s: %s: %s", e.Object, e.What, e.Got)
	}
	return fmt.Sprintf("verifying %s: %s is %s, expected %s", e.Object, e.What, e.Got, e.Want)
}

// Is makes errors.Is(err, ErrVerification) true.
func (e *VerificationError) Is(target error) bool { return target == ErrVerification }

// manifest is the JSON form of ArchivedPartition.
type manifest struct {
	Format      int       `json:"format"`
	Partition   string    `json:"partition"`
	Month       string    `json:"month"`
	Events      int64     `json:"events"`
	MinPosition int64     `json:"min_position"`
	MaxPosition int64     `json:"max_position"`
	SHA256      string    `json:"sha256"`
	Object      string    `json:"object"`
	ArchivedAt  time.Time `json:"archived_at"`
}

// archivedEvent is one line of an events file: every column of
// eventstore.events, so that Restore puts back exactly what was there.
type archivedEvent struct {
	Position      int64           `json:"position"`
	TxID          string          `json:"tx_id"` // xid8 as a decimal string: JSON numbers lose 64-bit precision in many readers
	EventID       string          `json:"event_id"`
	StreamID      string          `json:"stream_id"`
	Version       int64           `json:"version"`
	Type          string          `json:"type"`
	SchemaVersion int32           `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata"`
	RecordedAt    string          `json:"recorded_at"` // RFC 3339 with up to nanoseconds, UTC
}

// partitionRE matches the names eventstore.ensure_partition gives.
var partitionRE = regexp.MustCompile(`^events_(\d{4})_(\d{2})$`)

type monthPartition struct {
	name  string    // events_2031_01
	month time.Time // 2031-01-01T00:00:00Z
}

func partitionOf(month time.Time) monthPartition {
	return monthPartition{name: "events_" + month.Format("2006_01"), month: month}
}

func (p monthPartition) ident() string { return pgx.Identifier{"eventstore", p.name}.Sanitize() }
func (p monthPartition) object() string {
	return "events-" + p.month.Format("2006-01") + ".jsonl.gz"
}
func (p monthPartition) manifest() string {
	return "events-" + p.month.Format("2006-01") + ".manifest.json"
}

// Archive moves every month before opts.Before out of the database, oldest
// first. For each month's partition it writes the events, ordered by
// position, to a gzip-compressed JSON-lines object and a manifest, reads
// both back from the sink to check the count and the SHA-256, and only then
// detaches and drops the partition, in one transaction that first checks
// the partition still holds as many events as were written.
// eventstore.event_ids is never touched, so an archived event's id stays
// taken. A month whose partition is empty is archived too.
//
// Archive returns the months archived, in order, even when it fails part
// way; the month that failed keeps its partition. It returns an error
// matching ErrCurrentMonth when opts.Before is after the start of the
// store's current month, and a *VerificationError when the sink gave back
// something else than it was given. Running it again after a failure
// writes and verifies the remaining months again.
func (s *Store) Archive(ctx context.Context, opts ArchiveOptions) ([]ArchivedPartition, error) {
	before := opts.Before.UTC()
	if opts.Sink == nil {
		return nil, errors.New("archiving events: no sink given")
	}
	if !before.Equal(monthStart(before)) {
		return nil, fmt.Errorf("archiving events before %s: that is not the start of a UTC month (e.g. %s)",
			before.Format(time.RFC3339Nano), monthStart(before).Format(time.RFC3339))
	}
	now := s.now().UTC()
	if current := monthStart(now); before.After(current) {
		return nil, fmt.Errorf("archiving events before %s: that would archive %s, the current month (the store's clock says %s): %w",
			before.Format("2006-01"), current.Format("2006-01"), now.Format(time.RFC3339), ErrCurrentMonth)
	}
	parts, err := s.partitionsBefore(ctx, before)
	if err != nil {
		return nil, err
	}
	var done []ArchivedPartition
	for _, p := range parts {
		a, err := s.archivePartition(ctx, p, opts.Sink)
		if err != nil {
			return done, fmt.Errorf("archiving %s: %w", p.name, err)
		}
		s.mu.Lock()
		delete(s.partitions, p.month)
		s.mu.Unlock()
		s.logger.Info("event partition archived", "partition", p.name, "events", a.Events, "object", a.Object, "sha256", a.SHA256)
		done = append(done, a)
		if opts.ProgressFunc != nil {
			opts.ProgressFunc(a)
		}
	}
	return done, nil
}

// partitionsBefore lists the month partitions of eventstore.events whose
// month starts before before, oldest first.
func (s *Store) partitionsBefore(ctx context.Context, before time.Time) ([]monthPartition, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname::text FROM pg_catalog.pg_inherits i
		JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'eventstore.events'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("listing event partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("listing event partitions: %w", err)
	}
	var out []monthPartition
	for _, name := range names {
		m := partitionRE.FindStringSubmatch(name)
		if m == nil {
			s.logger.Warn("skipping a partition of eventstore.events not named events_YYYY_MM", "partition", name)
			continue
		}
		month, err := time.Parse("2006-01", m[1]+"-"+m[2])
		if err != nil {
			s.logger.Warn("skipping a partition of eventstore.events not named events_YYYY_MM", "partition", name)
			continue
		}
		if month.Before(before) {
			out = append(out, partitionOf(month))
		}
	}
	slices.SortFunc(out, func(a, b monthPartition) int { return a.month.Compare(b.month) })
	return out, nil
}

func (s *Store) archivePartition(ctx context.Context, p monthPartition, sink ArchiveSink) (ArchivedPartition, error) {
	st, err := s.exportPartition(ctx, p, sink)
	if err != nil {
		return ArchivedPartition{}, err
	}
	a := ArchivedPartition{
		Partition: p.name, Month: p.month, Events: st.events, MinPosition: st.minPos, MaxPosition: st.maxPos,
		SHA256: st.sha256, Object: p.object(), Manifest: p.manifest(), ArchivedAt: s.now().UTC(),
	}
	body, err := manifestOf(a)
	if err != nil {
		return ArchivedPartition{}, err
	}
	if err := sink.Put(ctx, a.Manifest, bytes.NewReader(body)); err != nil {
		return ArchivedPartition{}, fmt.Errorf("writing %s: %w", a.Manifest, err)
	}
	if err := verifyArchived(ctx, sink, a, body); err != nil {
		return ArchivedPartition{}, err
	}
	if err := s.dropPartition(ctx, p, a); err != nil {
		return ArchivedPartition{}, err
	}
	return a, nil
}

func manifestOf(a ArchivedPartition) ([]byte, error) {
	body, err := json.MarshalIndent(manifest{
		Format: ArchiveFormat, Partition: a.Partition, Month: a.Month.Format("2006-01"), Events: a.Events,
		MinPosition: a.MinPosition, MaxPosition: a.MaxPosition, SHA256: a.SHA256, Object: path.Base(a.Object),
		ArchivedAt: a.ArchivedAt,
	}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the manifest of %s: %w", a.Partition, err)
	}
	return append(body, '\n'), nil
}

// objectStats is what an events file holds, as written or as read back.
type objectStats struct {
	events         int64
	minPos, maxPos int64
	sha256         string // of the uncompressed JSON lines
}

// errSinkStopped is what the exporter sees when the sink returned before
// reading the whole object.
var errSinkStopped = errors.New("the sink stopped reading")

// exportPartition streams the partition into the sink as its events
// object: the rows are read, encoded and compressed while the sink stores
// them, so a month never has to fit in memory.
func (s *Store) exportPartition(ctx context.Context, p monthPartition, sink ArchiveSink) (objectStats, error) {
	pr, pw := io.Pipe()
	type result struct {
		st  objectStats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := s.writeEvents(ctx, p, pw)
		pw.CloseWithError(err) // nil: the sink reads io.EOF
		done <- result{st, err}
	}()
	putErr := sink.Put(ctx, p.object(), pr)
	pr.CloseWithError(errSinkStopped) // unblocks the writer if the sink stopped early
	res := <-done
	switch {
	case res.err != nil && !errors.Is(res.err, errSinkStopped) && !errors.Is(res.err, io.ErrClosedPipe):
		return objectStats{}, fmt.Errorf("reading the events of %s: %w", p.name, res.err)
	case putErr != nil:
		return objectStats{}, fmt.Errorf("writing %s: %w", p.object(), putErr)
	case res.err != nil:
		return objectStats{}, fmt.Errorf("writing %s: the sink returned before reading all of it", p.object())
	}
	return res.st, nil
}

// writeEvents writes the partition's rows, ordered by position, to w as
// gzip-compressed JSON lines.
func (s *Store) writeEvents(ctx context.Context, p monthPartition, w io.Writer) (objectStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT position, tx_id::text, event_id::text, stream_id, version, type, schema_version,
		data::text, metadata::text, recorded_at FROM `+p.ident()+` ORDER BY position`)
	if err != nil {
		return objectStats{}, err
	}
	defer rows.Close()
	h := sha256.New()
	gz := gzip.NewWriter(w)
	bw := bufio.NewWriterSize(io.MultiWriter(gz, h), 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var st objectStats
	for rows.Next() {
		var (
			ev         archivedEvent
			data, meta []byte
			recordedAt time.Time
		)
		if err := rows.Scan(&ev.Position, &ev.TxID, &ev.EventID, &ev.StreamID, &ev.Version, &ev.Type, &ev.SchemaVersion,
			&data, &meta, &recordedAt); err != nil {
			return objectStats{}, err
		}
		ev.Data, ev.Metadata = data, meta
		ev.RecordedAt = recordedAt.UTC().Format(time.RFC3339Nano)
		if err := enc.Encode(ev); err != nil {
			return objectStats{}, fmt.Errorf("encoding event %s: %w", ev.EventID, err)
		}
		if st.events == 0 {
			st.minPos = ev.Position
		}
		st.maxPos = ev.Position
		st.events++
	}
	if err := rows.Err(); err != nil {
		return objectStats{}, err
	}
	if err := bw.Flush(); err != nil {
		return objectStats{}, err
	}
	if err := gz.Close(); err != nil {
		return objectStats{}, err
	}
	st.sha256 = hex.EncodeToString(h.Sum(nil))
	return st, nil
}

// verifyArchived reads the manifest and the events object back from the
// sink and compares them with what was written.
func verifyArchived(ctx context.Context, sink ArchiveSink, a ArchivedPartition, manifestBody []byte) error {
	got, err := readAll(ctx, sink, a.Manifest)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, manifestBody) {
		return &VerificationError{Object: a.Manifest, What: "content", Want: fmt.Sprintf("the %d bytes written", len(manifestBody)),
			Got: fmt.Sprintf("%d other bytes", len(got))}
	}
	rc, err := sink.Get(ctx, a.Object)
	if err != nil {
		return fmt.Errorf("reading %s back: %w", a.Object, err)
	}
	defer rc.Close()
	st, err := scanEvents(rc, a.Object, a.Month)
	if err != nil {
		return err
	}
	return compareStats(a, st)
}

func compareStats(a ArchivedPartition, st objectStats) error {
	bad := func(what string, want, got any) error {
		return &VerificationError{Object: a.Object, What: what, Want: fmt.Sprint(want), Got: fmt.Sprint(got)}
	}
	switch {
	case st.sha256 != a.SHA256:
		return bad("sha256 of the JSON lines", a.SHA256, st.sha256)
	case st.events != a.Events:
		return bad("number of events", a.Events, st.events)
	case st.minPos != a.MinPosition:
		return bad("lowest position", a.MinPosition, st.minPos)
	case st.maxPos != a.MaxPosition:
		return bad("highest position", a.MaxPosition, st.maxPos)
	}
	return nil
}

func readAll(ctx context.Context, sink ArchiveSink, name string) ([]byte, error) {
	rc, err := sink.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return b, nil
}

// eventScanner reads an events object: it decompresses it, hashes and
// counts its lines, and checks that each is an event of its month, in
// position order. Use it like bufio.Scanner.
type eventScanner struct {
	src         *sourceReader
	object      string
	month, next time.Time
	gz          *gzip.Reader
	br          *bufio.Reader
	h           hash.Hash
	st          objectStats
	ev          archivedEvent
	at          time.Time
	err         error
	done        bool
}

func newEventScanner(r io.Reader, object string, month time.Time) *eventScanner {
	s := &eventScanner{src: &sourceReader{r: r}, object: object, month: month, next: month.AddDate(0, 1, 0), h: sha256.New()}
	gz, err := gzip.NewReader(s.src)
	if err != nil {
		s.fail("gzip stream", err.Error())
		return s
	}
	s.gz = gz
	s.br = bufio.NewReaderSize(io.TeeReader(gz, s.h), 64<<10)
	return s
}

// fail stops the scan with a *VerificationError, unless what stopped it
// was reading the object (the network, the disk), which is reported as
// such.
func (s *eventScanner) fail(what, got string) bool {
	s.done = true
	if s.src.err != nil {
		s.err = fmt.Errorf("reading %s: %w", s.object, s.src.err)
		return false
	}
	s.err = &VerificationError{Object: s.object, What: what, Got: got}
	return false
}

// sourceReader remembers the error its reader returned, other than io.EOF.
type sourceReader struct {
	r   io.Reader
	err error
}

func (r *sourceReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		r.err = err
	}
	return n, err
}

// Scan moves to the next event and reports whether there is one.
func (s *eventScanner) Scan() bool {
	if s.done {
		return false
	}
	line, err := s.br.ReadBytes('\n')
	n := s.st.events + 1
	if errors.Is(err, io.EOF) {
		if len(line) > 0 {
			return s.fail(fmt.Sprintf("line %d", n), "does not end with a newline")
		}
		if err := s.gz.Close(); err != nil {
			return s.fail("gzip stream", err.Error())
		}
		s.st.sha256 = hex.EncodeToString(s.h.Sum(nil))
		s.done = true
		return false
	}
	if err != nil {
		return s.fail("gzip stream", err.Error())
	}
	var ev archivedEvent
	if err := json.Unmarshal(line, &ev); err != nil {
		return s.fail(fmt.Sprintf("line %d", n), "is not an event: "+err.Error())
	}
	at, err := checkEvent(ev, s.month, s.next)
	if err != nil {
		return s.fail(fmt.Sprintf("line %d", n), err.Error())
	}
	if s.st.events > 0 && ev.Position <= s.st.maxPos {
		return s.fail(fmt.Sprintf("line %d", n), fmt.Sprintf("position %d does not follow %d", ev.Position, s.st.maxPos))
	}
	if s.st.events == 0 {
		s.st.minPos = ev.Position
	}
	s.st.maxPos = ev.Position
	s.st.events++
	s.ev, s.at = ev, at
	return true
}

// Event returns the event Scan moved to and its recorded time.
func (s *eventScanner) Event() (archivedEvent, time.Time) { return s.ev, s.at }

// Err returns what stopped Scan, nil at the end of the object.
func (s *eventScanner) Err() error { return s.err }

// Stats returns what the object held; it is complete once Scan returned
// false with a nil Err.
func (s *eventScanner) Stats() objectStats { return s.st }

// scanEvents reads a whole events object (see eventScanner).
func scanEvents(r io.Reader, object string, month time.Time) (objectStats, error) {
	sc := newEventScanner(r, object, month)
	for sc.Scan() {
	}
	return sc.Stats(), sc.Err()
}

// checkEvent checks the fields of one archived event and returns its
// recorded time.
func checkEvent(ev archivedEvent, month, next time.Time) (time.Time, error) {
	if _, err := strconv.ParseUint(ev.TxID, 10, 64); err != nil {
		return time.Time{}, fmt.Errorf("tx_id %q is not a transaction id", ev.TxID)
	}
	if _, err := uuid.Parse(ev.EventID); err != nil {
		return time.Time{}, fmt.Errorf("event_id %q is not a UUID", ev.EventID)
	}
	if ev.StreamID == "" || ev.Type == "" || ev.Version < 1 || ev.SchemaVersion < 1 || ev.Position < 1 {
		return time.Time{}, errors.New("position, stream_id, version, type or schema_version is missing")
	}
	for name, raw := range map[string]json.RawMessage{"data": ev.Data, "metadata": ev.Metadata} {
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return time.Time{}, fmt.Errorf("%s is not a JSON object", name)
		}
	}
	at, err := time.Parse(time.RFC3339Nano, ev.RecordedAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("recorded_at %q is not an RFC 3339 time", ev.RecordedAt)
	}
	if at.Before(month) || !at.Before(next) {
		return time.Time{}, fmt.Errorf("recorded_at %s is not in %s", ev.RecordedAt, month.Format("2006-01"))
	}
	return at, nil
}

// dropPartition detaches and drops the partition, after checking under a
// lock that blocks inserts that it holds as many events as were archived.
// Rows are never updated or deleted, so an equal count means no event came
// in since the export.
func (s *Store) dropPartition(ctx context.Context, p monthPartition, a ArchivedPartition) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("dropping %s: %w", p.name, err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit
	// SHARE blocks inserts and lets readers go on; DETACH below takes the
	// stronger locks it needs.
	if _, err := tx.Exec(ctx, `LOCK TABLE `+p.ident()+` IN SHARE MODE`); err != nil {
		return fmt.Errorf("locking %s: %w", p.name, err)
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+p.ident()).Scan(&n); err != nil {
		return fmt.Errorf("counting the events of %s: %w", p.name, err)
	}
	if n != a.Events {
		return &VerificationError{Object: "eventstore." + p.name, What: "count(*)", Want: fmt.Sprintf("%d (as archived)", a.Events),
			Got: fmt.Sprintf("%d (events came in while archiving; run archive again)", n)}
	}
	if _, err := tx.Exec(ctx, `ALTER TABLE eventstore.events DETACH PARTITION `+p.ident()); err != nil {
		return fmt.Errorf("detaching %s: %w", p.name, err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE `+p.ident()); err != nil {
		return fmt.Errorf("dropping %s: %w", p.name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("dropping %s: %w", p.name, err)
	}
	return nil
}

// ManifestName returns the manifest name for name, which may be the name
// of a manifest (events-2031-01.manifest.json) or of an events object
// (events-2031-01.jsonl.gz), with or without a folder in front.
func ManifestName(name string) (string, error) {
	switch {
	case strings.HasSuffix(name, ".manifest.json"):
		return name, nil
	case strings.HasSuffix(name, ".jsonl.gz"):
		return strings.TrimSuffix(name, ".jsonl.gz") + ".manifest.json", nil
	}
	return "", fmt.Errorf("%q is neither an archive manifest (events-YYYY-MM.manifest.json) nor an events file (events-YYYY-MM.jsonl.gz)", name)
}

// readManifest reads and checks a manifest.
func readManifest(ctx context.Context, sink ArchiveSink, name string) (ArchivedPartition, error) {
	body, err := readAll(ctx, sink, name)
	if err != nil {
		return ArchivedPartition{}, err
	}
	var m manifest
	if err := json.Unmarshal(body, &m); err != nil {
		return ArchivedPartition{}, &VerificationError{Object: name, What: "manifest", Got: "is not valid JSON: " + err.Error()}
	}
	bad := func(what, want, got string) error {
		return &VerificationError{Object: name, What: what, Want: want, Got: got}
	}
	if m.Format != ArchiveFormat {
		return ArchivedPartition{}, bad("format", strconv.Itoa(ArchiveFormat), strconv.Itoa(m.Format))
	}
	month, err := time.Parse("2006-01", m.Month)
	if err != nil {
		return ArchivedPartition{}, bad("month", "a month such as 2031-01", strconv.Quote(m.Month))
	}
	p := partitionOf(month)
	switch {
	case m.Partition != p.name:
		return ArchivedPartition{}, bad("partition", p.name, strconv.Quote(m.Partition))
	case m.Object != p.object():
		return ArchivedPartition{}, bad("object", p.object(), strconv.Quote(m.Object))
	case m.Events < 0 || m.MinPosition < 0 || m.MaxPosition < m.MinPosition:
		return ArchivedPartition{}, bad("events and positions", "a count and a range of positions",
			fmt.Sprintf("%d events from %d to %d", m.Events, m.MinPosition, m.MaxPosition))
	}
	dir := path.Dir(name)
	return ArchivedPartition{
		Partition: m.Partition, Month: month, Events: m.Events, MinPosition: m.MinPosition, MaxPosition: m.MaxPosition,
		SHA256: m.SHA256, Object: path.Join(dir, m.Object), Manifest: name, ArchivedAt: m.ArchivedAt.UTC(),
	}, nil
}

// Restore brings an archived month back into eventstore.events. name is
// the manifest's name in the sink, or the events object's name (the
// manifest is then the one beside it).
//
// It first reads the whole events object and checks its count and SHA-256
// against the manifest, and that every line is an event of that month;
// only then, in one transaction, it creates the month's table, copies the
// events in exactly as they were (positions and transaction ids included),
// checks that eventstore.event_ids knows each of them with the same stream,
// version and position, and attaches the table as the month's partition.
//
// It returns an error matching ErrPartitionExists when the month's
// partition exists already, a *VerificationError when the archive does not
// match its manifest or this database, and an error matching
// ErrArchiveObjectNotFound when a file is missing; in each case nothing is
// written.
func (s *Store) Restore(ctx context.Context, sink ArchiveSink, name string) (ArchivedPartition, error) {
	manifestName, err := ManifestName(name)
	if err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring events: %w", err)
	}
	a, err := readManifest(ctx, sink, manifestName)
	if err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring from %s: %w", manifestName, err)
	}
	p := partitionOf(a.Month)
	if err := s.checkNoPartition(ctx, p); err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: %w", p.name, err)
	}

	// The object is read once from the sink into a local file while it is
	// checked, then copied in from that file, so a month need not fit in
	// memory and is downloaded once.
	spool, err := os.CreateTemp("", "aiflow-restore-*.jsonl.gz")
	if err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: making a temporary file: %w", p.name, err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	rc, err := sink.Get(ctx, a.Object)
	if err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: reading %s: %w", p.name, a.Object, err)
	}
	st, err := scanEvents(io.TeeReader(rc, spool), a.Object, a.Month)
	rc.Close()
	if err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: %w", p.name, err)
	}
	if err := compareStats(a, st); err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: %w", p.name, err)
	}
	if err := s.restoreFrom(ctx, p, a, spool); err != nil {
		return ArchivedPartition{}, fmt.Errorf("restoring %s: %w", p.name, err)
	}
	s.logger.Info("event partition restored", "partition", p.name, "events", a.Events, "object", a.Object)
	return a, nil
}

func (s *Store) checkNoPartition(ctx context.Context, p monthPartition) error {
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, "eventstore."+p.name).Scan(&exists); err != nil {
		return fmt.Errorf("looking for the partition: %w", err)
	}
	if exists {
		return fmt.Errorf("eventstore.%s is in the database (archive that month again, or drop the table, to restore it): %w",
			p.name, ErrPartitionExists)
	}
	return nil
}

// restoreFrom copies the checked events file spool into the month's new
// partition in one transaction.
func (s *Store) restoreFrom(ctx context.Context, p monthPartition, a ArchivedPartition, spool *os.File) error {
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rereading the events: %w", err)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("beginning: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // a no-op after Commit

	// Rows land in a temporary table first, in text form where pgx has no
	// binary encoding of the column type (xid8), and are cast on the way in.
	if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE aiflow_restore (
		position bigint, tx_id text, event_id text, stream_id text, version bigint, type text,
		schema_version integer, data text, metadata text, recorded_at timestamptz) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("making a temporary table: %w", err)
	}
	sc := newEventScanner(spool, a.Object, a.Month)
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"aiflow_restore"},
		[]string{"position", "tx_id", "event_id", "stream_id", "version", "type", "schema_version", "data", "metadata", "recorded_at"},
		restoreSource{sc})
	if sc.Err() != nil {
		return sc.Err()
	}
	if err != nil {
		return fmt.Errorf("copying the events: %w", err)
	}
	// The temporary file was checked as it was written; check it again as
	// it is read, in case it changed in between.
	if err := compareStats(a, sc.Stats()); err != nil {
		return err
	}
	if n != a.Events {
		return &VerificationError{Object: a.Object, What: "events copied", Want: fmt.Sprint(a.Events), Got: fmt.Sprint(n)}
	}

	_, err = tx.Exec(ctx, `CREATE TABLE `+p.ident()+` (LIKE eventstore.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P07" { // duplicate_table: made since we looked
		return fmt.Errorf("eventstore.%s was made while restoring: %w", p.name, ErrPartitionExists)
	}
	if err != nil {
		return fmt.Errorf("creating the table: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+p.ident()+` (position, tx_id, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
		SELECT position, tx_id::xid8, event_id::uuid, stream_id, version, type, schema_version, data::json, metadata::jsonb, recorded_at
		FROM aiflow_restore ORDER BY position`); err != nil {
		return fmt.Errorf("inserting the events: %w", err)
	}
	var known int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM aiflow_restore r JOIN eventstore.event_ids i
		ON i.event_id = r.event_id::uuid AND i.stream_id = r.stream_id AND i.version = r.version AND i.position = r.position`).Scan(&known); err != nil {
		return fmt.Errorf("checking the events against eventstore.event_ids: %w", err)
	}
	if known != a.Events {
		return &VerificationError{Object: a.Object, What: "events recorded in eventstore.event_ids with the same stream, version and position",
			Want: fmt.Sprint(a.Events), Got: fmt.Sprintf("%d (is the archive from another database?)", known)}
	}
	next := a.Month.AddDate(0, 1, 0)
	if _, err := tx.Exec(ctx, fmt.Sprintf(`ALTER TABLE eventstore.events ATTACH PARTITION %s FOR VALUES FROM ('%s') TO ('%s')`,
		p.ident(), a.Month.Format(time.RFC3339), next.Format(time.RFC3339))); err != nil {
		return fmt.Errorf("attaching the partition: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// restoreSource feeds pgx's CopyFrom the events of an events object as it
// decodes them.
type restoreSource struct {
	sc *eventScanner
}

func (s restoreSource) Next() bool { return s.sc.Scan() }

func (s restoreSource) Values() ([]any, error) {
	ev, at := s.sc.Event()
	return []any{ev.Position, ev.TxID, ev.EventID, ev.StreamID, ev.Version, ev.Type, ev.SchemaVersion,
		string(ev.Data), string(ev.Metadata), at}, nil
}

// Err reports a decoding error to CopyFrom, which then aborts the copy.
func (s restoreSource) Err() error { return s.sc.Err() }
