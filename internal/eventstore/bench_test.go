package eventstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/procstat"
)

// The numbers these benchmarks give, and what limits each, are in
// docs/performance.md ("Event store"). Each benchmark case has a database
// of its own (the ceiling and the store of one batch size share one, the
// reads share their pre-filled log), so no case's rows slow another's
// indexes.

// benchData is the data of every benchmark event: a 212-byte JSON object,
// compact with its keys sorted, which is the form the store keeps, so the
// ceiling inserts the very bytes the store does.
var benchData = json.RawMessage(`{"attempt":1,"duration_ms":1234,"execution_id":"exec-0b7e3c52-9f41-4d1a","input":{"channel":"email","priority":"high","ticket_id":"T-12345"},"output":{"confidence":0.93,"label":"refund"},"state":"ClassifyTicket"}`)

var benchMeta = eventstore.Metadata{CorrelationID: "corr-0b7e3c52-9f41-4d1a-8f57-2c8d1e6a9b30", Actor: "service:engine"}

const benchType = "TaskSucceeded"

// benchStore opens a store on a fresh database of the benchmark's own.
func benchStore(b *testing.B) *eventstore.Store {
	b.Helper()
	s, err := eventstore.Open(context.Background(), pgclustertest.Pool(b), eventstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// benchStreams is a set of streams a benchmark appends to, each with the
// version it is at, so that every append expects the exact version.
type benchStreams struct {
	ids      []string
	versions []int64
	events   []eventstore.NewEvent // perStream events, reused: the store makes each a new id
	reqs     []eventstore.AppendRequest
}

// benchSeq keeps the streams of each run of a benchmark apart: with
// -count, a sub-benchmark runs again on the database of its parent.
var benchSeq atomic.Int64

func newBenchStreams(prefix string, streams, perStream int) *benchStreams {
	run := benchSeq.Add(1)
	bs := &benchStreams{ids: make([]string, streams), versions: make([]int64, streams), events: make([]eventstore.NewEvent, perStream)}
	for i := range bs.events {
		bs.events[i] = eventstore.NewEvent{Type: benchType, Data: benchData, Metadata: benchMeta}
	}
	for i := range bs.ids {
		bs.ids[i] = fmt.Sprintf("bench-%s-%d-%04d", prefix, run, i)
		bs.reqs = append(bs.reqs, eventstore.AppendRequest{StreamID: bs.ids[i], Events: bs.events})
	}
	return bs
}

// size is how many events one append stores.
func (bs *benchStreams) size() int { return len(bs.ids) * len(bs.events) }

// append stores perStream events in every stream in one transaction: with
// Append when there is one stream, with AppendMany (group commit) when
// there are more.
func (bs *benchStreams) append(ctx context.Context, s *eventstore.Store) ([]eventstore.AppendResult, error) {
	if len(bs.ids) == 1 {
		res, err := s.Append(ctx, bs.ids[0], eventstore.Exact(bs.versions[0]), bs.events...)
		if err != nil {
			return nil, err
		}
		bs.versions[0] = res.Version
		return []eventstore.AppendResult{res}, nil
	}
	for i := range bs.reqs {
		bs.reqs[i].Expected = eventstore.Exact(bs.versions[i])
	}
	res, err := s.AppendMany(ctx, bs.reqs)
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		bs.versions[i] = r.Version
	}
	return res, nil
}

// reportEventsPerSecond reports n events over the benchmark's measured time
// and returns the rate.
func reportEventsPerSecond(b *testing.B, n int) float64 {
	rate := float64(n) / b.Elapsed().Seconds()
	b.ReportMetric(rate, "events/s")
	return rate
}

// BenchmarkAppend is sequential appends to one stream, each expecting the
// stream's exact version: one transaction, and so one WAL flush, per
// append.
func BenchmarkAppend(b *testing.B) {
	for _, perAppend := range []int{1, 10} {
		b.Run(fmt.Sprintf("events=%d", perAppend), func(b *testing.B) {
			ctx := context.Background()
			s := benchStore(b)
			bs := newBenchStreams("one", 1, perAppend)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				if _, err := bs.append(ctx, s); err != nil {
					b.Fatal(err)
				}
				n += bs.size()
			}
			reportEventsPerSecond(b, n)
		})
	}
}

// BenchmarkAppendMany is group commits of many streams in one transaction,
// from one writer and from four concurrent ones (each with streams of its
// own, as engine workers would have).
func BenchmarkAppendMany(b *testing.B) {
	for _, c := range []struct{ streams, perStream, writers int }{
		{100, 1, 1},
		{10, 10, 1},
		{100, 1, 4},
	} {
		b.Run(fmt.Sprintf("streams=%dx%d/writers=%d", c.streams, c.perStream, c.writers), func(b *testing.B) {
			s := benchStore(b)
			if c.writers == 1 {
				ctx := context.Background()
				bs := newBenchStreams("many", c.streams, c.perStream)
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if _, err := bs.append(ctx, s); err != nil {
						b.Fatal(err)
					}
					n += bs.size()
				}
				reportEventsPerSecond(b, n)
				return
			}
			appendConcurrently(b, s, c.writers, c.streams, c.perStream)
		})
	}
}

// appendConcurrently runs writers goroutines, each appending to streams of
// its own; every iteration of the benchmark loop hands one group commit to
// whichever writer is free. ns/op is the wall time per group commit; the
// rate is measured up to the end of the last commit.
func appendConcurrently(b *testing.B, s *eventstore.Store, writers, streams, perStream int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	work := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		bs := newBenchStreams(fmt.Sprintf("writer%d", w), streams, perStream)
		wg.Go(func() {
			for range work {
				if _, err := bs.append(ctx, s); err != nil {
					b.Error(err)
					cancel()
					return
				}
			}
		})
	}
	b.ReportAllocs()
	commits := 0
	var start time.Time
	for b.Loop() {
		if commits == 0 {
			start = time.Now()
		}
		select {
		case work <- struct{}{}:
			commits++
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(start)
	b.ReportMetric(float64(commits*streams*perStream)/elapsed.Seconds(), "events/s")
}

// The ceiling: the same rows inserted the way the store inserts them (one
// multi-row INSERT of unnested arrays, event ids sent as binary UUIDs, the
// JSON as text) in one round trip per batch, the statement alone in its
// implicit transaction (the store's append is one round trip too), into a
// bare table with no index, no constraint but NOT NULL, and no partitions.
const (
	ceilingTable = `CREATE TABLE bench_ceiling (
		position       bigint      NOT NULL,
		event_id       uuid        NOT NULL,
		stream_id      text        NOT NULL,
		version        bigint      NOT NULL,
		type           text        NOT NULL,
		schema_version integer     NOT NULL,
		data           json        NOT NULL,
		metadata       jsonb       NOT NULL,
		recorded_at    timestamptz NOT NULL
	)`
	ceilingInsert = `INSERT INTO bench_ceiling (position, event_id, stream_id, version, type, schema_version, data, metadata, recorded_at)
		SELECT position, event_id, stream_id, version, type, schema_version, data, metadata, $9
		FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[]::json[], $8::text[]::jsonb[])
		AS u(position, event_id, stream_id, version, type, schema_version, data, metadata)`
)

// ceilingBatch holds the columns of one batch of ceiling rows, laid out
// like the store's appends to bs's streams.
type ceilingBatch struct {
	positions, versions []int64
	ids                 [][16]byte
	streams             []string
	types, datas, metas []string
	schemas             []int32
}

func newCeilingBatch(bs *benchStreams) *ceilingBatch {
	n := bs.size()
	meta, err := json.Marshal(benchMeta)
	if err != nil {
		panic(err)
	}
	cb := &ceilingBatch{
		positions: make([]int64, n), versions: make([]int64, n), ids: make([][16]byte, n), streams: make([]string, n),
		types: make([]string, n), datas: make([]string, n), metas: make([]string, n), schemas: make([]int32, n),
	}
	for k := range n {
		cb.streams[k] = bs.ids[k/len(bs.events)]
		cb.types[k], cb.datas[k], cb.metas[k], cb.schemas[k] = benchType, string(benchData), string(meta), 1
	}
	return cb
}

// insert stores the next batch: new ids, positions and versions, as an
// append would take them, in one statement (its own transaction).
func (cb *ceilingBatch) insert(ctx context.Context, conn *pgxpool.Conn, bs *benchStreams, nextPosition *int64) error {
	for k := range cb.ids {
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		*nextPosition++
		cb.ids[k], cb.positions[k] = id, *nextPosition
		s := k / len(bs.events)
		bs.versions[s]++
		cb.versions[k] = bs.versions[s]
	}
	recordedAt := time.Now().UTC().Truncate(time.Microsecond)
	_, err := conn.Exec(ctx, ceilingInsert, cb.positions, cb.ids, cb.streams, cb.versions, cb.types, cb.schemas, cb.datas, cb.metas, recordedAt)
	return err
}

// addUsed adds to sum what the server used between two readings.
func addUsed(sum, before, after procstat.Usage) procstat.Usage {
	sum.CPU += after.CPU - before.CPU
	sum.MinorFaults += after.MinorFaults - before.MinorFaults
	return sum
}

// BenchmarkAppendVsCeiling measures, for each batch size (events per
// transaction) and each way the store's appends lay the batch out, the
// ceiling and the store interleaved: every iteration inserts one ceiling
// batch and makes one append of the same size, in turn which goes first, and
// times each apart. So both see the same load on a shared machine, and
// fraction_of_ceiling (the store's events/s over the ceiling's) compares
// like with like. The goal is at least half of the ceiling with fsync and
// synchronous commit on. ns/op is the time of both (and of the WAL position
// and CPU reads around each, which are not in either rate); *_WAL_B/event is the
// WAL each wrote per event, which its commit must flush.
//
// Each part runs on a server process of its own, as it would alone: the
// ceiling on a connection it holds, the store on the pool's others. A
// backend's CPU per statement depends on what else that backend runs.
// After each statement, glibc's malloc gives the free top of the
// backend's heap back to the kernel (when it is over its trim threshold,
// 128 KiB by default), and the next statement faults those pages in
// again, zeroed; which pages are free at the top depends on where the
// backend's long-lived allocations sit, and so on every statement it has
// run. On a backend each, each part faults as many pages per event as
// when it runs alone. On one backend shared by both, the ceiling's inserts
// reused pages the store's appends had left mapped and the store's
// appends faulted in what the ceiling's had given back (at 100 streams of
// one event: 0.50 and 0.99 faults per event, for 0.95 and 0.62 apart, a
// fault with its share of the heap's growing and trimming costing about
// 3 µs of the server's CPU here), which raised store/ceiling_pg-cpu by
// 20-40%.
//
// *_pg-cpu-µs/event is the PostgreSQL server's CPU per event, read around
// each part as its time is (pgclustertest.ServerCPU; not reported against
// DATABASE_URL), and store/ceiling_pg-cpu the store's over the ceiling's,
// which the fraction follows on a quiet machine; *_pg-faults/event is the
// server's minor page faults per event, read the same way. Each part's figure is
// its backend's work, settled when the synchronous commit returns, and
// whatever the background processes (the WAL writer, the checkpointer,
// autovacuum) did meanwhile, which then serve both parts in turn.
func BenchmarkAppendVsCeiling(b *testing.B) {
	type shape struct{ streams, perStream int }
	for _, c := range []struct {
		events int
		shapes []shape // how the store's appends lay the batch out; the ceiling's rows follow the same
	}{
		{1, []shape{{1, 1}}},
		{10, []shape{{1, 10}}},
		{100, []shape{{100, 1}, {10, 10}}},
		{1000, []shape{{100, 10}}},
	} {
		b.Run(fmt.Sprintf("events=%d", c.events), func(b *testing.B) {
			s := benchStore(b)
			ctx := context.Background()
			if _, err := s.Pool().Exec(ctx, ceilingTable); err != nil {
				b.Fatal(err)
			}
			var position int64 // the ceiling's, across its runs
			for _, sh := range c.shapes {
				b.Run(fmt.Sprintf("streams=%dx%d", sh.streams, sh.perStream), func(b *testing.B) {
					ceil := newBenchStreams("ceiling", sh.streams, sh.perStream)
					cb := newCeilingBatch(ceil)
					store := newBenchStreams(fmt.Sprintf("store%dx%d", sh.streams, sh.perStream), sh.streams, sh.perStream)
					var ceilingTime, storeTime time.Duration
					var ceilingWAL, storeWAL int64 // bytes, read outside the timed parts
					server, cpuKnown := pgclustertest.ServerUsage(b)
					var ceilingUse, storeUse procstat.Usage // the server's, read outside the timed parts
					if !cpuKnown {
						server = func() procstat.Usage { return procstat.Usage{} }
					}
					// The ceiling inserts on a connection of its own, a backend
					// the store's appends never use, as the store's appends keep
					// to the pool's others: each side runs on a server process
					// that does only its work.
					ceilingConn, err := s.Pool().Acquire(ctx)
					if err != nil {
						b.Fatal(err)
					}
					defer ceilingConn.Release()
					runCeiling := func() {
						before := pgclustertest.WALInsertLSN(b, s.Pool())
						useBefore := server()
						start := time.Now()
						if err := cb.insert(ctx, ceilingConn, ceil, &position); err != nil {
							b.Fatal(err)
						}
						ceilingTime += time.Since(start)
						ceilingUse = addUsed(ceilingUse, useBefore, server())
						ceilingWAL += pgclustertest.WALInsertLSN(b, s.Pool()) - before
					}
					runStore := func() {
						before := pgclustertest.WALInsertLSN(b, s.Pool())
						useBefore := server()
						start := time.Now()
						if _, err := store.append(ctx, s); err != nil {
							b.Fatal(err)
						}
						storeTime += time.Since(start)
						storeUse = addUsed(storeUse, useBefore, server())
						storeWAL += pgclustertest.WALInsertLSN(b, s.Pool()) - before
					}
					b.ReportAllocs()
					n := 0
					for b.Loop() {
						if n%2 == 0 {
							runCeiling()
							runStore()
						} else {
							runStore()
							runCeiling()
						}
						n++
					}
					events := float64(n * store.size())
					ceilingRate, storeRate := events/ceilingTime.Seconds(), events/storeTime.Seconds()
					b.ReportMetric(ceilingRate, "ceiling_events/s")
					b.ReportMetric(storeRate, "store_events/s")
					b.ReportMetric(storeRate/ceilingRate, "fraction_of_ceiling")
					b.ReportMetric(float64(ceilingWAL)/events, "ceiling_WAL_B/event")
					b.ReportMetric(float64(storeWAL)/events, "store_WAL_B/event")
					if cpuKnown {
						b.ReportMetric(float64(ceilingUse.CPU.Nanoseconds())/1e3/events, "ceiling_pg-cpu-µs/event")
						b.ReportMetric(float64(storeUse.CPU.Nanoseconds())/1e3/events, "store_pg-cpu-µs/event")
						b.ReportMetric(float64(storeUse.CPU)/float64(ceilingUse.CPU), "store/ceiling_pg-cpu")
						b.ReportMetric(float64(ceilingUse.MinorFaults)/events, "ceiling_pg-faults/event")
						b.ReportMetric(float64(storeUse.MinorFaults)/events, "store_pg-faults/event")
					}
				})
			}
		})
	}
}

// BenchmarkRead reads a log of 50,000 events (1,000 streams of 50) in pages
// of 1,000, by global position (ReadAll) and in commit-safe order
// (ReadCommitted, what subscriptions read), and one stream of 1,000 events
// (ReadStream). The log is filled before the timed loops.
func BenchmarkRead(b *testing.B) {
	const total, page = 50_000, 1000
	ctx := context.Background()
	s := benchStore(b)
	var last eventstore.Event
	for g := range 10 {
		bs := newBenchStreams(fmt.Sprintf("log%d", g), 100, 10)
		for range total / bs.size() / 10 {
			res, err := bs.append(ctx, s)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				for _, e := range r.Events {
					if e.Position > last.Position {
						last = e
					}
				}
			}
		}
	}
	long := newBenchStreams("long", 1, 100)
	for range 10 {
		if _, err := long.append(ctx, s); err != nil {
			b.Fatal(err)
		}
	}

	b.Run(fmt.Sprintf("ReadAll/page=%d", page), func(b *testing.B) {
		b.ReportAllocs()
		var after int64
		n := 0
		for b.Loop() {
			evs, err := s.ReadAll(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
			if len(evs) < page {
				after = 0
				continue
			}
			if after = evs[len(evs)-1].Position; after >= last.Position {
				after = 0
			}
		}
		reportEventsPerSecond(b, n)
	})
	b.Run(fmt.Sprintf("ReadCommitted/page=%d", page), func(b *testing.B) {
		b.ReportAllocs()
		var after eventstore.Checkpoint
		n := 0
		for b.Loop() {
			evs, err := s.ReadCommitted(ctx, after, page)
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
			if len(evs) < page {
				after = eventstore.Checkpoint{}
				continue
			}
			e := evs[len(evs)-1]
			if after = (eventstore.Checkpoint{TxID: e.TxID, Position: e.Position}); e.Position >= last.Position {
				after = eventstore.Checkpoint{}
			}
		}
		reportEventsPerSecond(b, n)
	})
	b.Run("ReadStream/events=1000", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			evs, err := s.ReadStream(ctx, long.ids[0], eventstore.ReadStreamOptions{Limit: 1000})
			if err != nil {
				b.Fatal(err)
			}
			n += len(evs)
		}
		reportEventsPerSecond(b, n)
	})
}

// lagPace is how often the writer of BenchmarkSubscriptionLag commits: a
// steady load well under what one writer can do (see docs/performance.md).
const lagPace = 10 * time.Millisecond

// BenchmarkSubscriptionLag runs a subscription while one writer makes a
// group commit of 10 events (10 streams) every lagPace, and measures for
// each event the time from its Append returning to the handler receiving
// it. An event can reach the handler before the writer has seen its commit
// return; that counts as no lag.
func BenchmarkSubscriptionLag(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b)

	var (
		mu       sync.Mutex
		appended = map[uuid.UUID]time.Time{}
		received = map[uuid.UUID]time.Time{}
		more     = make(chan struct{}, 1)
	)
	sub, err := s.Subscribe(eventstore.SubscriptionOptions{Name: "bench-lag", Handler: func(_ context.Context, ev eventstore.Event) error {
		now := time.Now()
		mu.Lock()
		received[ev.ID] = now
		mu.Unlock()
		select {
		case more <- struct{}{}:
		default:
		}
		return nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sub.Run(runCtx) }()
	defer func() {
		stop()
		<-done
	}()

	// waitReceived waits until the handler has n events; the bound only
	// keeps a broken benchmark from hanging.
	waitReceived := func(n int) {
		deadline := time.After(time.Minute)
		for {
			mu.Lock()
			got := len(received)
			mu.Unlock()
			if got >= n {
				return
			}
			select {
			case <-more:
			case <-deadline:
				b.Fatalf("waited for %d events, the subscription has %d", n, got)
			}
		}
	}

	bs := newBenchStreams("lag", 10, 1)
	// A first commit, delivered, means the subscription holds its lock and
	// listens; it is not counted.
	if _, err := bs.append(ctx, s); err != nil {
		b.Fatal(err)
	}
	waitReceived(bs.size())
	mu.Lock()
	clear(received)
	mu.Unlock()

	ticker := time.NewTicker(lagPace)
	defer ticker.Stop()
	b.ReportAllocs()
	var start time.Time
	sent := 0
	for b.Loop() {
		<-ticker.C
		if sent == 0 {
			start = time.Now()
		}
		res, err := bs.append(ctx, s)
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		mu.Lock()
		for _, r := range res {
			for _, e := range r.Events {
				appended[e.ID] = now
			}
		}
		mu.Unlock()
		sent += bs.size()
	}
	waitReceived(sent)

	mu.Lock()
	defer mu.Unlock()
	lags := make([]time.Duration, 0, len(appended))
	var lastReceived time.Time
	for id, at := range appended {
		got, ok := received[id]
		if !ok {
			b.Fatalf("event %s was appended but not received", id)
		}
		lags = append(lags, max(got.Sub(at), 0))
		if got.After(lastReceived) {
			lastReceived = got
		}
	}
	slices.Sort(lags)
	b.ReportMetric(ms(percentile(lags, 0.50)), "p50_lag_ms")
	b.ReportMetric(ms(percentile(lags, 0.99)), "p99_lag_ms")
	b.ReportMetric(float64(len(lags))/lastReceived.Sub(start).Seconds(), "events/s")
}

// percentile returns the p-th (0 to 1) of sorted durations, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
