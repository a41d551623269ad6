package eventstore_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/archivesink"
	"github.com/aiflow/aiflow/internal/archivesink/archivesinktest"
	"github.com/aiflow/aiflow/internal/eventstore"
)

// testClock is a clock a test sets.
type testClock struct{ p atomic.Pointer[time.Time] }

func (c *testClock) set(t time.Time) { c.p.Store(&t) }
func (c *testClock) now() time.Time  { return *c.p.Load() }

var (
	jan15 = time.Date(2031, 1, 15, 9, 30, 0, 123456000, time.UTC)
	feb01 = time.Date(2031, 2, 1, 0, 0, 0, 0, time.UTC)
	apr01 = time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)
	apr10 = time.Date(2031, 4, 10, 12, 0, 0, 0, time.UTC)
)

type archiveBundle struct {
	ctx   context.Context
	clock *testClock
	store *eventstore.Store
}

// setupArchive opens a store on a fresh database with a clock the test
// sets, starting in January 2031.
func setupArchive(t *testing.T) *archiveBundle {
	t.Helper()
	b := &archiveBundle{ctx: context.Background(), clock: &testClock{}}
	b.clock.set(jan15)
	b.store = openStore(t, true, eventstore.Options{NowFunc: b.clock.now})
	return b
}

func (b *archiveBundle) appendAt(t *testing.T, at time.Time, stream string, evs ...eventstore.NewEvent) {
	t.Helper()
	b.clock.set(at)
	_, err := b.store.Append(b.ctx, stream, eventstore.Any, evs...)
	require.NoError(t, err)
}

// populate appends three events in January 2031, three in February, none
// in March (whose partition is made ahead and stays empty) and one in
// April, and leaves the clock at 2031-04-10.
func (b *archiveBundle) populate(t *testing.T) {
	t.Helper()
	b.appendAt(t, jan15, "exec-1",
		eventstore.NewEvent{Type: "ExecutionStarted", SchemaVersion: 2,
			Data:     json.RawMessage(`{"input":{"customer":"Zoë Łukasiewicz 🚀 日本","items":[1,2.50,{"deep":[true,null,"<b>&amp;</b>"]}],"note":"line\nbreak\ttab \"quoted\" \\ \u0007"}}`),
			Metadata: eventstore.Metadata{CorrelationID: "corr-1", CausationID: "cmd-1", TraceID: "1-5759e988-bd862e3fe1be46a994272793", Actor: "user:zoë"}},
		eventstore.NewEvent{Type: "TaskStateEntered", Data: json.RawMessage(`{"name":"Classify"}`)})
	b.appendAt(t, time.Date(2031, 1, 31, 23, 59, 59, 999999000, time.UTC), "exec-2",
		eventstore.NewEvent{Type: "ExecutionStarted", Data: json.RawMessage(`{"big":12345678901234567890123,"small":1e-7,"empty":{}}`)})
	b.appendAt(t, feb01, "exec-2", eventstore.NewEvent{Type: "ExecutionFailed", Data: json.RawMessage(`{"error":"States.Timeout"}`)})
	b.appendAt(t, time.Date(2031, 2, 10, 8, 0, 0, 0, time.UTC), "exec-1",
		eventstore.NewEvent{Type: "TaskSucceeded", Data: json.RawMessage(`{"output":{"label":"refund","score":0.97}}`),
			Metadata: eventstore.Metadata{CorrelationID: "corr-1", Actor: "worker:aistep"}},
		eventstore.NewEvent{Type: "ExecutionSucceeded", Data: json.RawMessage(`{}`)})
	b.appendAt(t, time.Date(2031, 4, 2, 0, 0, 0, 0, time.UTC), "exec-3", eventstore.NewEvent{Type: "ExecutionStarted", Data: json.RawMessage(`{}`)})
	b.clock.set(apr10)
}

func (b *archiveBundle) readAll(t *testing.T) []eventstore.Event {
	t.Helper()
	evs, err := b.store.ReadAll(b.ctx, 0, 0)
	require.NoError(t, err)
	return evs
}

// partitions lists the partitions of eventstore.events.
func (b *archiveBundle) partitions(t *testing.T) []string {
	t.Helper()
	rows, err := b.store.Pool().Query(b.ctx, `SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'eventstore.events'::regclass ORDER BY 1`)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		names = append(names, n)
	}
	require.NoError(t, rows.Err())
	return names
}

// eventIDs returns every row of eventstore.event_ids as text.
func (b *archiveBundle) eventIDs(t *testing.T) []string {
	t.Helper()
	rows, err := b.store.Pool().Query(b.ctx, `SELECT concat_ws(' ', event_id, stream_id, version, position, recorded_at, encode(content_hash, 'hex'))
		FROM eventstore.event_ids ORDER BY position`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

// archiveLine is one line of an events file as the format documents it.
type archiveLine struct {
	Position      int64           `json:"position"`
	TxID          string          `json:"tx_id"`
	EventID       string          `json:"event_id"`
	StreamID      string          `json:"stream_id"`
	Version       int64           `json:"version"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	Data          json.RawMessage `json:"data"`
	Metadata      json.RawMessage `json:"metadata"`
	RecordedAt    string          `json:"recorded_at"`
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return out
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func lines(t *testing.T, jsonl []byte) []archiveLine {
	t.Helper()
	var out []archiveLine
	sc := bufio.NewScanner(bytes.NewReader(jsonl))
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		var l archiveLine
		require.NoError(t, dec.Decode(&l), sc.Text())
		out = append(out, l)
	}
	require.NoError(t, sc.Err())
	return out
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestArchiveAndRestoreRoundTrip(t *testing.T) {
	t.Parallel()
	for _, sk := range archivesinktest.Sinks {
		t.Run(sk.Name, func(t *testing.T) {
			t.Parallel()
			b := setupArchive(t)
			b.populate(t)
			ctx := b.ctx
			sink := sk.New(t)

			before := b.readAll(t)
			require.Len(t, before, 7)
			idsBefore := b.eventIDs(t)
			require.Equal(t, []string{"events_2031_01", "events_2031_02", "events_2031_03", "events_2031_04", "events_2031_05"}, b.partitions(t))

			var progress []eventstore.ArchivedPartition
			archived, err := b.store.Archive(ctx, eventstore.ArchiveOptions{Before: apr01, Sink: sink,
				ProgressFunc: func(a eventstore.ArchivedPartition) { progress = append(progress, a) }})
			require.NoError(t, err)
			require.Equal(t, archived, progress)
			require.Len(t, archived, 3)
			for i, want := range []struct {
				month          string
				events         int64
				minPos, maxPos int64
			}{
				{"2031-01", 3, before[0].Position, before[2].Position},
				{"2031-02", 3, before[3].Position, before[5].Position},
				{"2031-03", 0, 0, 0}, // made ahead, never used: archived and dropped all the same
			} {
				a := archived[i]
				require.Equal(t, "events_"+strings.ReplaceAll(want.month, "-", "_"), a.Partition)
				require.Equal(t, want.month, a.Month.Format("2006-01"))
				require.Equal(t, time.UTC, a.Month.Location())
				require.Equal(t, want.events, a.Events)
				require.Equal(t, want.minPos, a.MinPosition)
				require.Equal(t, want.maxPos, a.MaxPosition)
				require.Equal(t, "events-"+want.month+".jsonl.gz", a.Object)
				require.Equal(t, "events-"+want.month+".manifest.json", a.Manifest)
				require.Equal(t, apr10, a.ArchivedAt)
				require.Regexp(t, `^[0-9a-f]{64}$`, a.SHA256)
			}

			// The archived months are gone from the database; April stays.
			require.Equal(t, []string{"events_2031_04", "events_2031_05"}, b.partitions(t))
			require.Equal(t, before[6:], b.readAll(t))
			gone, err := b.store.ReadStream(ctx, "exec-1", eventstore.ReadStreamOptions{})
			require.NoError(t, err)
			require.Empty(t, gone)
			// eventstore.event_ids keeps every id: it is not touched, and an
			// archived event's id cannot be used again.
			require.Equal(t, idsBefore, b.eventIDs(t))
			_, err = b.store.Append(ctx, "exec-9", eventstore.Any,
				eventstore.NewEvent{ID: before[0].ID, Type: "Reused", Data: json.RawMessage(`{}`)})
			require.ErrorIs(t, err, eventstore.ErrDuplicateEvent)
			v, err := b.store.StreamVersion(ctx, "exec-1")
			require.NoError(t, err)
			require.Equal(t, int64(4), v, "stream versions are not archived either")

			// The files hold every column of every event, and the manifest
			// describes them.
			next := 0
			for _, a := range archived {
				var m map[string]any
				require.NoError(t, json.Unmarshal(archivesinktest.ReadObject(t, sink, a.Manifest), &m))
				require.Equal(t, map[string]any{
					"format": 1.0, "partition": a.Partition, "month": a.Month.Format("2006-01"), "events": float64(a.Events),
					"min_position": float64(a.MinPosition), "max_position": float64(a.MaxPosition), "sha256": a.SHA256,
					"object": a.Object, "archived_at": "2031-04-10T12:00:00Z",
				}, m)
				object := archivesinktest.ReadObject(t, sink, a.Object)
				require.Equal(t, []byte{0x1f, 0x8b}, object[:2], "gzip")
				jsonl := gunzip(t, object)
				require.Equal(t, a.SHA256, sha256Hex(jsonl))
				ls := lines(t, jsonl)
				require.Len(t, ls, int(a.Events))
				for _, l := range ls {
					ev := before[next]
					next++
					meta, err := json.Marshal(ev.Metadata)
					require.NoError(t, err)
					require.Equal(t, ev.Position, l.Position)
					require.Equal(t, strconv.FormatUint(ev.TxID, 10), l.TxID)
					require.Equal(t, ev.ID.String(), l.EventID)
					require.Equal(t, ev.StreamID, l.StreamID)
					require.Equal(t, ev.Version, l.Version)
					require.Equal(t, ev.Type, l.Type)
					require.Equal(t, ev.SchemaVersion, l.SchemaVersion)
					require.JSONEq(t, string(ev.Data), string(l.Data))
					require.JSONEq(t, string(meta), string(l.Metadata))
					require.Equal(t, ev.RecordedAt.Format(time.RFC3339Nano), l.RecordedAt)
				}
			}
			require.Equal(t, 6, next)
			require.Contains(t, string(gunzip(t, archivesinktest.ReadObject(t, sink, "events-2031-01.jsonl.gz"))), "Zoë Łukasiewicz 🚀 日本", "unicode is kept as is")

			// Restore by manifest name, by object name, and the empty month.
			for i, name := range []string{"events-2031-01.manifest.json", "events-2031-02.jsonl.gz", "events-2031-03.manifest.json"} {
				got, err := b.store.Restore(ctx, sink, name)
				require.NoError(t, err, name)
				require.Equal(t, archived[i], got)
			}
			require.Equal(t, []string{"events_2031_01", "events_2031_02", "events_2031_03", "events_2031_04", "events_2031_05"}, b.partitions(t))
			require.Equal(t, before, b.readAll(t), "nothing lost, nothing changed: every field, Position and TxID included")
			stream1, err := b.store.ReadStream(ctx, "exec-1", eventstore.ReadStreamOptions{})
			require.NoError(t, err)
			require.Equal(t, []eventstore.Event{before[0], before[1], before[4], before[5]}, stream1)
			// Subscriptions see the restored events again. ReadCommitted
			// holds back events of transactions newer than the oldest one
			// running in the cluster, where other tests run theirs: wait.
			require.EventuallyWithT(t, func(c *assert.CollectT) {
				committed, err := b.store.ReadCommitted(ctx, eventstore.Checkpoint{}, 0)
				require.NoError(c, err)
				require.Len(c, committed, 7)
			}, 30*time.Second, 50*time.Millisecond)
			require.Equal(t, idsBefore, b.eventIDs(t))

			_, err = b.store.Restore(ctx, sink, "events-2031-01.manifest.json")
			require.ErrorIs(t, err, eventstore.ErrPartitionExists)
			require.ErrorContains(t, err, "eventstore.events_2031_01")

			// Archiving again writes the same events, byte for byte.
			again, err := b.store.Archive(ctx, eventstore.ArchiveOptions{Before: apr01, Sink: sink})
			require.NoError(t, err)
			require.Len(t, again, 3)
			for i := range again {
				require.Equal(t, archived[i].SHA256, again[i].SHA256)
				require.Equal(t, archived[i].Events, again[i].Events)
			}
		})
	}
}

func TestArchiveRefusesTheCurrentMonth(t *testing.T) {
	t.Parallel()
	b := setupArchive(t)
	b.populate(t) // the clock is at 2031-04-10
	sink := archivesink.NewDir(t.TempDir())
	parts := b.partitions(t)

	for _, before := range []time.Time{time.Date(2031, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2032, 1, 1, 0, 0, 0, 0, time.UTC)} {
		done, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: before, Sink: sink})
		require.ErrorIs(t, err, eventstore.ErrCurrentMonth)
		require.ErrorContains(t, err, "would archive 2031-04, the current month")
		require.Empty(t, done)
	}
	_, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: time.Date(2031, 3, 15, 0, 0, 0, 0, time.UTC), Sink: sink})
	require.ErrorContains(t, err, "2031-03-15T00:00:00Z: that is not the start of a UTC month")
	_, err = b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: apr01})
	require.ErrorContains(t, err, "no sink")
	require.Equal(t, parts, b.partitions(t), "nothing was archived")

	// The start of a month given in another zone is that month.
	done, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Sink: sink,
		Before: time.Date(2031, 1, 31, 19, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))})
	require.NoError(t, err)
	require.Len(t, done, 1)
	require.Equal(t, "events_2031_01", done[0].Partition)
}

// tamperingSink stores something else than it is given.
type tamperingSink struct {
	eventstore.ArchiveSink
	tamperFunc func(name string, body []byte) []byte
}

func (s tamperingSink) Put(ctx context.Context, name string, body io.Reader) error {
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	return s.ArchiveSink.Put(ctx, name, bytes.NewReader(s.tamperFunc(name, b)))
}

func TestArchiveVerificationFailureDropsNothing(t *testing.T) {
	t.Parallel()
	onObject := func(f func(t *testing.T, jsonl []byte) []byte) func(t *testing.T, name string, b []byte) []byte {
		return func(t *testing.T, name string, b []byte) []byte {
			if !strings.HasSuffix(name, ".jsonl.gz") {
				return b
			}
			return gzipped(t, f(t, gunzip(t, b)))
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, name string, b []byte) []byte
		what   string
	}{
		{"ChangedEvent", onObject(func(t *testing.T, b []byte) []byte {
			return bytes.Replace(b, []byte("Classify"), []byte("Clas5ify"), 1)
		}),
			"sha256 of the JSON lines is "},
		{"LostEvent", onObject(func(t *testing.T, b []byte) []byte {
			return b[:bytes.LastIndexByte(b[:len(b)-1], '\n')+1]
		}), "sha256 of the JSON lines is "},
		{"Truncated", func(t *testing.T, name string, b []byte) []byte {
			if strings.HasSuffix(name, ".jsonl.gz") {
				return b[:len(b)/2]
			}
			return b
		}, "gzip stream: unexpected EOF"},
		{"ChangedManifest", func(t *testing.T, name string, b []byte) []byte {
			return bytes.Replace(b, []byte(`"events": 3`), []byte(`"events": 2`), 1)
		}, "verifying events-2031-01.manifest.json: content is"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupArchive(t)
			b.populate(t)
			before := b.readAll(t)
			parts := b.partitions(t)
			honest := archivesink.NewDir(t.TempDir())
			bad := tamperingSink{ArchiveSink: honest, tamperFunc: func(name string, body []byte) []byte { return tc.tamper(t, name, body) }}

			done, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: apr01, Sink: bad})
			var verr *eventstore.VerificationError
			require.ErrorAs(t, err, &verr)
			require.ErrorIs(t, err, eventstore.ErrVerification)
			require.ErrorContains(t, err, "archiving events_2031_01: ")
			require.ErrorContains(t, err, tc.what)
			require.Empty(t, done)
			require.Equal(t, parts, b.partitions(t), "nothing is dropped")
			require.Equal(t, before, b.readAll(t))

			// Run again with a sink that works: it writes and verifies
			// again, then drops.
			done, err = b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: apr01, Sink: honest})
			require.NoError(t, err)
			require.Len(t, done, 3)
			require.Equal(t, before[6:], b.readAll(t))
		})
	}
}

// hookSink calls putFunc after each Put.
type hookSink struct {
	eventstore.ArchiveSink
	putFunc func(name string)
}

func (s hookSink) Put(ctx context.Context, name string, body io.Reader) error {
	if err := s.ArchiveSink.Put(ctx, name, body); err != nil {
		return err
	}
	s.putFunc(name)
	return nil
}

func TestArchiveNoticesEventsThatArriveWhileArchiving(t *testing.T) {
	t.Parallel()
	b := setupArchive(t)
	b.populate(t)
	// A writer whose clock is still in January.
	late, err := eventstore.Open(b.ctx, b.store.Pool(), eventstore.Options{NowFunc: func() time.Time { return jan15.AddDate(0, 0, 5) }})
	require.NoError(t, err)
	sink := hookSink{ArchiveSink: archivesink.NewDir(t.TempDir()), putFunc: func(name string) {
		if name == "events-2031-01.jsonl.gz" {
			_, err := late.Append(b.ctx, "exec-late", eventstore.Any, eventstore.NewEvent{Type: "Late", Data: json.RawMessage(`{}`)})
			require.NoError(t, err)
		}
	}}
	done, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: apr01, Sink: sink})
	require.ErrorIs(t, err, eventstore.ErrVerification)
	require.ErrorContains(t, err, "verifying eventstore.events_2031_01: count(*) is 4 (events came in while archiving; run archive again), expected 3 (as archived)")
	require.Empty(t, done)
	require.Contains(t, b.partitions(t), "events_2031_01")

	done, err = b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: apr01, Sink: sink.ArchiveSink})
	require.NoError(t, err)
	require.Equal(t, int64(4), done[0].Events)
}

func TestRestoreRefusesABadArchive(t *testing.T) {
	t.Parallel()
	b := setupArchive(t)
	b.populate(t)
	dir := t.TempDir()
	sink := archivesink.NewDir(dir)
	_, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: feb01, Sink: sink})
	require.NoError(t, err)
	objectPath, manifestPath := filepath.Join(dir, "events-2031-01.jsonl.gz"), filepath.Join(dir, "events-2031-01.manifest.json")
	object, err := os.ReadFile(objectPath)
	require.NoError(t, err)
	manifest, err := os.ReadFile(manifestPath)
	require.NoError(t, err)
	jsonl := gunzip(t, object)
	withSHA := func(jsonl []byte) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal(manifest, &m))
		m["sha256"] = sha256Hex(jsonl)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		return out
	}

	// The cases share the archive files, so they run one after the other.
	for _, tc := range []struct {
		name             string
		object, manifest []byte // nil: as archived
		remove           string
		want             string
	}{
		{name: "ChangedEvent", object: gzipped(t, bytes.Replace(jsonl, []byte("Classify"), []byte("Clas5ify"), 1)),
			want: "verifying events-2031-01.jsonl.gz: sha256 of the JSON lines is "},
		{name: "ExtraEvent", object: gzipped(t, append(bytes.Clone(jsonl), jsonl[:bytes.IndexByte(jsonl, '\n')+1]...)),
			want: "line 4: position"},
		{name: "NotGzip", object: []byte("PK\x03\x04 a zip file"), want: "gzip stream: gzip: invalid header"},
		{name: "EventOfAnotherMonthWithAMatchingManifest",
			object:   gzipped(t, bytes.Replace(jsonl, []byte(`"recorded_at":"2031-01-15T`), []byte(`"recorded_at":"2031-02-15T`), 1)),
			manifest: withSHA(bytes.Replace(jsonl, []byte(`"recorded_at":"2031-01-15T`), []byte(`"recorded_at":"2031-02-15T`), 1)),
			want:     "line 1: recorded_at 2031-02-15T09:30:00.123456Z is not in 2031-01"},
		{name: "NewerFormat", manifest: bytes.Replace(manifest, []byte(`"format": 1`), []byte(`"format": 2`), 1),
			want: "verifying events-2031-01.manifest.json: format is 2, expected 1"},
		{name: "ManifestOfAnotherMonth", manifest: bytes.Replace(manifest, []byte(`"partition": "events_2031_01"`), []byte(`"partition": "events_2031_02"`), 1),
			want: `partition is "events_2031_02", expected events_2031_01`},
		{name: "MissingObject", remove: objectPath, want: "no such"},
	} {
		require.NoError(t, os.WriteFile(objectPath, object, 0o600))
		require.NoError(t, os.WriteFile(manifestPath, manifest, 0o600))
		if tc.object != nil {
			require.NoError(t, os.WriteFile(objectPath, tc.object, 0o600))
		}
		if tc.manifest != nil {
			require.NoError(t, os.WriteFile(manifestPath, tc.manifest, 0o600))
		}
		if tc.remove != "" {
			require.NoError(t, os.Remove(tc.remove))
		}
		_, err := b.store.Restore(b.ctx, sink, "events-2031-01.manifest.json")
		require.Error(t, err, tc.name)
		if tc.remove != "" {
			require.ErrorIs(t, err, eventstore.ErrArchiveObjectNotFound, tc.name)
		} else {
			require.ErrorIs(t, err, eventstore.ErrVerification, tc.name)
			require.ErrorContains(t, err, tc.want, tc.name)
		}
		require.NotContains(t, b.partitions(t), "events_2031_01", "%s: nothing is written", tc.name)
	}

	_, err = b.store.Restore(b.ctx, sink, "events-2031-01.txt")
	require.ErrorContains(t, err, `"events-2031-01.txt" is neither an archive manifest`)

	// With the files as archived, the restore goes through.
	require.NoError(t, os.WriteFile(objectPath, object, 0o600))
	require.NoError(t, os.WriteFile(manifestPath, manifest, 0o600))
	got, err := b.store.Restore(b.ctx, sink, "events-2031-01.jsonl.gz")
	require.NoError(t, err)
	require.Equal(t, int64(3), got.Events)
}

func TestRestoreRefusesAnExistingPartition(t *testing.T) {
	t.Parallel()
	b := setupArchive(t)
	b.populate(t)
	sink := archivesink.NewDir(t.TempDir())
	_, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: feb01, Sink: sink})
	require.NoError(t, err)

	// A writer with a slow clock makes January's partition again.
	b.appendAt(t, jan15.AddDate(0, 0, 5), "exec-late", eventstore.NewEvent{Type: "Late", Data: json.RawMessage(`{}`)})
	b.clock.set(apr10)
	_, err = b.store.Restore(b.ctx, sink, "events-2031-01.manifest.json")
	require.ErrorIs(t, err, eventstore.ErrPartitionExists)
	require.ErrorContains(t, err, "restoring events_2031_01: eventstore.events_2031_01 is in the database")
	late, err := b.store.ReadStream(b.ctx, "exec-late", eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, late, 1, "the new partition is left alone")
}

func TestRestoreRefusesAnArchiveOfAnotherDatabase(t *testing.T) {
	t.Parallel()
	b := setupArchive(t)
	b.populate(t)
	sink := archivesink.NewDir(t.TempDir())
	_, err := b.store.Archive(b.ctx, eventstore.ArchiveOptions{Before: feb01, Sink: sink})
	require.NoError(t, err)

	other := openStore(t, true, eventstore.Options{NowFunc: b.clock.now})
	_, err = other.Restore(b.ctx, sink, "events-2031-01.manifest.json")
	require.ErrorIs(t, err, eventstore.ErrVerification)
	require.ErrorContains(t, err, "events recorded in eventstore.event_ids with the same stream, version and position is 0 (is the archive from another database?), expected 3")
	evs, err := other.ReadAll(b.ctx, 0, 0)
	require.NoError(t, err)
	require.Empty(t, evs)
}
