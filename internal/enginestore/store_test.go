package enginestore_test

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/engine/enginetest"
	"github.com/aiflow/aiflow/internal/enginestore"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/sfn"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

type testBundle struct {
	store  *enginestore.Store
	events *eventstore.Store
	pool   *pgxpool.Pool
}

// ownStore opens the engine's store on a database of the test's own, for
// a test whose engine resumes what it finds open there.
func ownStore(t testing.TB) *enginestore.Store {
	t.Helper()
	ctx := context.Background()
	pool := pgclustertest.Pool(t)
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	store, err := enginestore.New(ctx, pool, events)
	require.NoError(t, err)
	return store
}

// setup opens the stores on the package's shared database; tests keep to
// executions of their own.
func setup(t testing.TB) *testBundle {
	t.Helper()
	ctx := context.Background()
	pool := pgclustertest.PackagePool(t)
	events, err := eventstore.Open(ctx, pool, eventstore.Options{})
	require.NoError(t, err)
	store, err := enginestore.New(ctx, pool, events)
	require.NoError(t, err)
	return &testBundle{store: store, events: events, pool: pool}
}

func TestStoreContract(t *testing.T) {
	t.Parallel()
	enginetest.RunStoreSuite(t, func(t *testing.T) engine.Store { return setup(t).store })
}

// A pool whose connections do not cache prepared statements (each query
// described anew, as behind a pooler in transaction mode) gets the
// summaries written with pgx's own encoding, nothing prepared by name: the
// contract holds either way.
func TestStoreContractWithoutPreparedStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgclustertest.Database(t))
	require.NoError(t, err)
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeDescribeExec
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	enginetest.RunStoreSuite(t, func(t *testing.T) engine.Store {
		events, err := eventstore.Open(ctx, pool, eventstore.Options{})
		require.NoError(t, err)
		store, err := enginestore.New(ctx, pool, events)
		require.NoError(t, err)
		return store
	})
}

var seq atomic.Int64

// execution is a new running execution no other test uses.
func execution(t testing.TB) engine.ExecutionRecord {
	sm := fmt.Sprintf("%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), seq.Add(1))
	return engine.ExecutionRecord{
		ARN:             "arn:aws:states:us-east-1:123456789012:execution:" + sm + ":run",
		StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:" + sm,
		Name:            "run",
		Status:          sfn.StatusRunning,
		StartDate:       time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC),
		Input:           `{"ticket":"T-1"}`,
	}
}

func commit(r engine.ExecutionRecord, seq int64, typ, data string) engine.Commit {
	return engine.Commit{Execution: r, Seq: seq, Type: typ, Data: json.RawMessage(data)}
}

func TestEventID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 5, 4, 10, 0, 0, 123_456_789, time.UTC)
	id := enginestore.EventID("execution-s", 3, at)
	require.Equal(t, id, enginestore.EventID("execution-s", 3, at))
	require.Equal(t, 8, int(id.Version()))
	require.Equal(t, uuid.RFC4122, id.Variant())
	require.NotEqual(t, id, enginestore.EventID("execution-s", 4, at))
	require.NotEqual(t, id, enginestore.EventID("execution-t", 3, at))
	// The store keeps an execution's start in microseconds: the id of a
	// start read back from it is the id of the start it was given.
	require.Equal(t, id, enginestore.EventID("execution-s", 3, at.Truncate(time.Microsecond)))
	require.Equal(t, id, enginestore.EventID("execution-s", 3, at.Truncate(time.Millisecond).In(time.FixedZone("x", 3600))))

	// It is the ordered id of the start and of the SHA-1 of stream#seq in
	// the commits' namespace, for short stream ids (which fit its buffer)
	// and long ones.
	namespace := uuid.MustParse("cd3ec085-bfff-4b4e-98d0-3eefed1708e0")
	for _, n := range []int{0, 1, 63, 199, 200, 201, 1000} {
		stream := "execution-" + strings.Repeat("x", n)
		for _, seq := range []int64{0, 1, 9, 10, 123456789, math.MaxInt64, -1} {
			sum := sha1.Sum(append(namespace[:len(namespace):len(namespace)], stream+"#"+strconv.FormatInt(seq, 10)...))
			require.Equal(t, eventstore.OrderedID(at, sum[:]), enginestore.EventID(stream, seq, at), "%d bytes, seq %d", n, seq)
		}
	}

	// The ids of later starts sort after, whatever their streams; a start
	// not set (or before 1970) takes the first of the order.
	prev := enginestore.EventID("execution-z", 1, time.Time{})
	require.Equal(t, []byte{0, 0, 0, 0, 0, 0}, prev[:6])
	before := enginestore.EventID("execution-z", 1, time.Unix(-5, 0))
	require.Equal(t, prev[:6], before[:6])
	for i := range 1000 {
		next := enginestore.EventID(fmt.Sprintf("execution-%d", 1000-i), 1, at.Add(time.Duration(i)*time.Millisecond))
		require.Negative(t, bytes.Compare(prev[:], next[:]), "start %d", i)
		prev = next
	}
}

func TestHistoryIsOneStreamPerExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{
		commit(r, 1, "ExecutionStarted", `{"events":[1]}`),
		commit(r, 2, "TaskScheduled", `{"events":[2, 3]}`),
	}))

	stream := eventstore.ExecutionStreamID(r.ARN)
	evs, err := b.events.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	for i, ev := range evs {
		require.Equal(t, int64(i+1), ev.Version)
		require.Equal(t, enginestore.EventID(stream, ev.Version, r.StartDate), ev.ID)
		require.Equal(t, r.ARN, ev.Metadata.CorrelationID)
	}
	require.Equal(t, "ExecutionStarted", evs[0].Type)
	require.Equal(t, "TaskScheduled", evs[1].Type)
	require.JSONEq(t, `{"events":[2,3]}`, string(evs[1].Data))
	require.Equal(t, evs[0].TxID, evs[1].TxID, "one call is one transaction")
}

func TestRetriedCommitThatLandedIsANoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	c1 := commit(r, 1, "ExecutionStarted", `{"n":1}`)
	done := r
	done.Status, done.StopDate, done.Output = sfn.StatusSucceeded, r.StartDate.Add(time.Second), `{}`
	c2 := commit(done, 2, "ExecutionSucceeded", `{"n": 2}`)
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{c1}))
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{c2}))

	// The same commits again. The engine retries a commit with the same
	// bytes, and the store compares bytes, not meaning: the same data
	// spelled otherwise is other data (the store suite allows either).
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{c1, c2}))
	respelled := c2
	respelled.Data = json.RawMessage("{ \"n\" : 2 }")
	err := b.store.Commit(ctx, []engine.Commit{respelled})
	var ee *sfn.Error
	require.ErrorAs(t, err, &ee)
	require.Equal(t, sfn.CodeConflict, ee.Code)
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{c1}))
	got, ok, err := b.store.Execution(ctx, r.ARN)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, sfn.StatusSucceeded, got.Status, "an older commit again does not bring back an older summary")
	batches, err := b.store.Batches(ctx, r.ARN)
	require.NoError(t, err)
	require.Len(t, batches, 2)
}

func TestAFailedSummaryWritesNoHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	r.Input = "holds \x00, which PostgreSQL text cannot"
	err := b.store.Commit(ctx, []engine.Commit{commit(r, 1, "ExecutionStarted", `{}`)})
	require.Error(t, err)
	var pgErr *pgconn.PgError
	require.False(t, errors.As(err, &pgErr), "pgx errors do not leave the store: %v", err)
	var engErr *sfn.Error
	require.False(t, errors.As(err, &engErr), "a database failure is no API error: %v", err)
	require.ErrorIs(t, err, engine.ErrCommitRefused, "the database refuses the data for good: the engine must not write it again")

	v, err := b.events.StreamVersion(ctx, eventstore.ExecutionStreamID(r.ARN))
	require.NoError(t, err)
	require.Zero(t, v, "the history rolled back with the summary")
	_, ok, err := b.store.Execution(ctx, r.ARN)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestDataTheEventStoreRefusesIsAValidationError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	for data, says := range map[string]string{`{"a" 1}`: "not valid JSON", `{"a":"\u0000"}`: `\u0000 at /a`} {
		err := b.store.Commit(ctx, []engine.Commit{commit(r, 1, "ExecutionStarted", `{}`), commit(r, 2, "TaskScheduled", data)})
		var e *sfn.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, sfn.CodeValidation, e.Code)
		require.Contains(t, e.Message, "commit 1")
		require.Contains(t, e.Message, r.ARN)
		require.Contains(t, e.Message, says)
		_, ok, err := b.store.Execution(ctx, r.ARN)
		require.NoError(t, err)
		require.False(t, ok)
	}
}

func TestTheLargestBatchFitsAnEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	r.Name = strings.Repeat("n", 80)
	r.ARN += ":" + r.Name // the longest ARN makes the most metadata
	data := `{"a":"` + strings.Repeat("x", engine.MaxBatchBytes-len(`{"a":""}`)) + `"}`
	require.Len(t, data, engine.MaxBatchBytes)
	require.NoError(t, b.store.Commit(ctx, []engine.Commit{commit(r, 1, "ExecutionStarted", data)}))
	batches, err := b.store.Batches(ctx, r.ARN)
	require.NoError(t, err)
	require.Len(t, batches, 1)
	require.JSONEq(t, data, string(batches[0]))
}

func TestBatchesReadsLongHistories(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	r := execution(t)
	const n = 1203
	commits := make([]engine.Commit, n)
	for i := range commits {
		commits[i] = commit(r, int64(i+1), "Batch", fmt.Sprintf(`{"i":%d}`, i+1))
	}
	require.NoError(t, b.store.Commit(ctx, commits))
	batches, err := b.store.Batches(ctx, r.ARN)
	require.NoError(t, err)
	require.Len(t, batches, n)
	for i, batch := range batches {
		require.JSONEq(t, fmt.Sprintf(`{"i":%d}`, i+1), string(batch))
	}
}

func TestNewNeedsAMigratedDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgclustertest.EmptyDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = enginestore.New(ctx, pool, nil)
	require.ErrorContains(t, err, "migrate")

	// A database migrated before 00021 does not keep every revision,
	// which the executions name.
	pool = pgclustertest.Pool(t)
	_, err = pool.Exec(ctx, `DROP FUNCTION engine.keep_revision() CASCADE`)
	require.NoError(t, err)
	_, err = enginestore.New(ctx, pool, nil)
	require.EqualError(t, err, "opening the engine store: the database does not keep state machines' revisions (migration 00021); migrate it first (aiflow migrate up)")
}

// BenchmarkCommit commits transitions of many executions, perCall of them
// in each call: a quarter are first commits, a quarter last ones.
func BenchmarkCommit(b *testing.B) {
	for _, perCall := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("commits=%d", perCall), func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			bundle := setup(b)
			data := json.RawMessage(`{"events":[{"type":"TaskScheduled","id":3,"previousEventId":2,"taskScheduledEventDetails":{"resourceType":"sqs","resource":"sendMessage.waitForTaskToken","region":"us-east-1","parameters":"{\"QueueUrl\":\"http://localhost/queue/ai\",\"MessageBody\":{\"step\":\"classify\"}}"}}]}`)
			start := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
			prefix := fmt.Sprintf("bench%d", seq.Add(1))
			call := make([]engine.Commit, perCall)
			recs := make([]engine.ExecutionRecord, perCall)
			n := 0
			for b.Loop() {
				for i := range call {
					s := int64(n%4) + 1
					if s == 1 {
						recs[i] = engine.ExecutionRecord{
							ARN:             fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:%s:e%d-%d", prefix, n, i),
							StateMachineARN: "arn:aws:states:us-east-1:123456789012:stateMachine:" + prefix,
							Name:            fmt.Sprintf("e%d-%d", n, i),
							Status:          sfn.StatusRunning,
							StartDate:       start.Add(time.Duration(n) * time.Millisecond),
							Input:           `{"ticket":"T-1","text":"My order has not arrived"}`,
						}
					}
					if s == 4 {
						recs[i].Status, recs[i].StopDate, recs[i].Output = sfn.StatusSucceeded, start.Add(time.Hour), `{"reply":"sent"}`
					}
					call[i] = engine.Commit{Execution: recs[i], Seq: s, Type: "TaskScheduled", Data: data}
				}
				if err := bundle.store.Commit(ctx, call); err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(n*perCall)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// TestEngineRefusesTheNameOfAClosedExecution: on PostgreSQL, a second
// start of a closed execution's name fails with ExecutionAlreadyExists.
func TestEngineRefusesTheNameOfAClosedExecution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open
	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Close() })
	name := fmt.Sprintf("names-%d", seq.Add(1))
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: name, Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	first, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken"})
	require.NoError(t, err)
	require.NoError(t, e.Wait(ctx, first.ExecutionARN))
	_, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "taken", Input: `{"again": true}`})
	var ee *sfn.Error
	require.ErrorAs(t, err, &ee)
	require.Equal(t, sfn.CodeExecutionAlreadyExists, ee.Code)
	d, err := e.DescribeExecution(ctx, first.ExecutionARN)
	require.NoError(t, err)
	require.Equal(t, sfn.StatusSucceeded, d.Status)
}

// TestEngineDropsAnExecutionWhoseStartIsRefused: on PostgreSQL, a start
// whose summary the database cannot hold (a NUL byte in its trace header)
// is refused, and so is its failure, which holds the same summary; neither
// is written again: the start fails naming the refusal, the other
// executions carry on, and Close returns.
func TestEngineDropsAnExecutionWhoseStartIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open
	e, err := engine.New(engine.Config{Store: store})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	name := fmt.Sprintf("refused-%d", seq.Add(1))
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: name, Definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`})
	require.NoError(t, err)
	_, err = e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "refused", TraceHeader: "Root=1\x00"})
	var ee *sfn.Error
	require.ErrorAs(t, err, &ee)
	require.Equal(t, sfn.CodeValidation, ee.Code, "the start's failure holds the trace header too: nothing of it is stored")
	require.Contains(t, ee.Message, "the engine's store refused the data")
	require.Contains(t, ee.Message, "SQLSTATE 22021")
	_, err = e.DescribeExecution(ctx, strings.Replace(sm.StateMachineARN, ":stateMachine:", ":execution:", 1)+":refused")
	require.ErrorAs(t, err, &ee)
	require.Equal(t, sfn.CodeExecutionDoesNotExist, ee.Code)
	ok, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: "after"})
	require.NoError(t, err, "the engine carries on")
	require.NoError(t, e.Wait(ctx, ok.ExecutionARN))
	require.NoError(t, e.Close())
}

// queueFunc is a sfn.QueueSender.
type queueFunc func(ctx context.Context, p sfn.SendMessageParams) (string, error)

func (f queueFunc) SendMessage(ctx context.Context, p sfn.SendMessageParams) (string, error) {
	return f(ctx, p)
}

// TestEngineFailsAnExecutionWhoseDataIsRefused: on PostgreSQL, a
// transition whose data the database refuses (a \u0000 in a task's
// output, which becomes the next state's input, which jsonb cannot hold; a NUL byte in a stop's cause, which
// text cannot) fails its execution with States.Runtime, written to its
// history; the caller gets a ValidationException naming the refusal, and
// nothing stays RUNNING, in the engine or after a restart.
func TestEngineFailsAnExecutionWhoseDataIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := ownStore(t) // its own database: the engine resumes what it finds open
	tokens := make(chan string, 2)
	queues := queueFunc(func(_ context.Context, p sfn.SendMessageParams) (string, error) {
		var body struct{ Token string }
		if err := json.Unmarshal([]byte(p.Body), &body); err != nil {
			return "", err
		}
		tokens <- body.Token
		return "msg", nil
	})
	e, err := engine.New(engine.Config{Store: store, Queues: queues})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	sm, err := e.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: fmt.Sprintf("refused-data-%d", seq.Add(1)),
		Definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
			"Parameters":{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/work","MessageBody":{"token.$":"$$.Task.Token"}},"Next":"W"},
			"W":{"Type":"Wait","Seconds":3600,"End":true}}}`})
	require.NoError(t, err)

	for name, act := range map[string]func(arn, token string) error{
		"task output": func(_, token string) error {
			return e.SendTaskSuccess(ctx, sfn.SendTaskSuccessInput{TaskToken: token, Output: `{"note":"\u0000"}`})
		},
		"stop cause": func(arn, _ string) error {
			_, err := e.StopExecution(ctx, sfn.StopExecutionInput{ExecutionARN: arn, Error: "aiflow.Stopped", Cause: "a\x00b"})
			return err
		},
	} {
		x, err := e.StartExecution(ctx, sfn.StartExecutionInput{StateMachineARN: sm.StateMachineARN, Name: strings.ReplaceAll(name, " ", "-")})
		require.NoError(t, err)
		err = act(x.ExecutionARN, <-tokens)
		var ee *sfn.Error
		require.ErrorAs(t, err, &ee, name)
		require.Equal(t, sfn.CodeValidation, ee.Code, name)
		require.Contains(t, ee.Message, "the engine's store refused the data", name)
		require.NoError(t, e.Wait(ctx, x.ExecutionARN), name)
		d, err := e.DescribeExecution(ctx, x.ExecutionARN)
		require.NoError(t, err)
		require.Equal(t, sfn.StatusFailed, d.Status, name)
		require.Equal(t, "States.Runtime", d.Error, name)
		require.Contains(t, d.Cause, "The engine's store refused the data of the execution's transition", name)
		h, err := e.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: x.ExecutionARN})
		require.NoError(t, err)
		last := h.Events[len(h.Events)-1]
		require.Equal(t, "ExecutionFailed", last.Type, name)
		require.Equal(t, int64(len(h.Events)), last.ID, name)
		require.Equal(t, d.Cause, last.ExecutionFailed.Cause, name)
	}
	require.NoError(t, e.Close())

	open, err := store.OpenExecutions(ctx)
	require.NoError(t, err)
	require.Empty(t, open, "nothing stays RUNNING")
	again, err := engine.New(engine.Config{Store: store, Queues: queues})
	require.NoError(t, err)
	require.NoError(t, again.Start(ctx), "a restart finds nothing to resume")
	require.Empty(t, tokens, "and sends nothing again")
	require.NoError(t, again.Close())
}
