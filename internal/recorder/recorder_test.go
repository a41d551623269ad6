package recorder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awssfn"
	"github.com/aiflow/aiflow/internal/engine"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/recorder"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/sfnapi"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// definition runs a Lambda task, a Map of three Lambda tasks and a Pass
// state: about thirty history events, several pages of seven.
const definition = `{"StartAt":"Hold","States":{
 "Hold":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Hold","Next":"Each"},
 "Each":{"Type":"Map","ItemsPath":"$.items","ItemProcessor":{"StartAt":"Echo","States":{
   "Echo":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:123456789012:function:Echo","End":true}}},
   "ResultPath":"$.echoed","Next":"Done"},
 "Done":{"Type":"Pass","End":true}}}`

type bundle struct {
	engine   *engine.Engine
	client   *awssfn.Client
	store    *eventstore.Store
	recorder *recorder.Recorder
	machine  string
	// release lets executions past their Hold task; each receive of hold
	// is one execution waiting there.
	hold    chan struct{}
	release chan struct{}
}

// setup runs a real engine (in memory) behind its Step Functions API on an
// httptest server, the awssfn client on that server, and a recorder that
// reads histories through the client, seven events a page, into the event
// store on PostgreSQL.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{hold: make(chan struct{}, 16), release: make(chan struct{})}
	fns := &engine.FunctionRegistry{}
	fns.Register("Hold", func(ctx context.Context, p json.RawMessage) (json.RawMessage, error) {
		b.hold <- struct{}{}
		select {
		case <-b.release:
			return p, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	})
	fns.Register("Echo", func(_ context.Context, p json.RawMessage) (json.RawMessage, error) { return p, nil })
	e, err := engine.New(engine.Config{Store: engine.NewMemoryStore(), Functions: fns})
	require.NoError(t, err)
	require.NoError(t, e.Start(ctx))
	t.Cleanup(func() { _ = e.Close() })
	srv := httptest.NewServer(sfnapi.NewHandler(e, sfnapi.Options{}))
	t.Cleanup(srv.Close)
	c, err := awssfn.NewClient(ctx, srv.URL, "")
	require.NoError(t, err)
	b.engine, b.client = e, awssfn.New(c)

	b.store, err = eventstore.Open(ctx, pgclustertest.PackagePool(t), eventstore.Options{})
	require.NoError(t, err)
	b.recorder, err = recorder.New(recorder.Config{History: b.client, Store: b.store, PageSize: 7})
	require.NoError(t, err)
	sm, err := b.client.CreateStateMachine(ctx, sfn.CreateStateMachineInput{Name: "recorded", Definition: definition})
	require.NoError(t, err)
	b.machine = sm.StateMachineARN
	return b
}

// start starts an execution and returns its ARN once it waits in Hold.
func (b *bundle) start(t *testing.T, name string) string {
	t.Helper()
	out, err := b.client.StartExecution(context.Background(), sfn.StartExecutionInput{
		StateMachineARN: b.machine, Name: name, Input: `{"items":[1,2,3]}`,
	})
	require.NoError(t, err)
	<-b.hold
	return out.ExecutionARN
}

// finish lets one held execution go on and waits for it to end.
func (b *bundle) finish(t *testing.T, arn string) sfn.Execution {
	t.Helper()
	b.release <- struct{}{}
	var d sfn.Execution
	require.Eventually(t, func() bool {
		var err error
		d, err = b.client.DescribeExecution(context.Background(), arn)
		require.NoError(t, err)
		return d.Status.Closed()
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, sfn.StatusSucceeded, d.Status, d.Error+": "+d.Cause)
	return d
}

// statusChange is the EventBridge event Step Functions sends for d.
func statusChange(t *testing.T, d sfn.Execution) events.EventBridgeEvent {
	t.Helper()
	detail := map[string]any{
		"executionArn": d.ExecutionARN, "stateMachineArn": d.StateMachineARN, "name": d.Name,
		"status": string(d.Status), "startDate": d.StartDate.UnixMilli(), "stopDate": nil,
		"input": d.Input, "output": nil, "error": nil, "cause": nil,
	}
	if d.Status.Closed() {
		detail["stopDate"] = d.StopDate.UnixMilli()
		detail["output"] = d.Output
	}
	raw, err := json.Marshal(detail)
	require.NoError(t, err)
	return events.EventBridgeEvent{
		Version: "0", ID: "315c1398-40ff-a850-213b-158f73e60175", DetailType: sfn.StatusChangeDetailType, Source: sfn.StatusChangeSource,
		AccountID: "123456789012", Time: d.StartDate, Region: "us-east-1", Resources: []string{d.ExecutionARN}, Detail: raw,
	}
}

// requireStreamIsHistory checks that the execution's stream holds its
// whole history, each event once, in order, with the recorder's ids.
func (b *bundle) requireStreamIsHistory(t *testing.T, arn string) {
	t.Helper()
	ctx := context.Background()
	h, err := b.client.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(t, err)
	require.Empty(t, h.NextToken)
	stored, err := b.store.ReadStream(ctx, eventstore.ExecutionStreamID(arn), eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, stored, len(h.Events))
	for i, ev := range stored {
		want := h.Events[i]
		require.Equal(t, int64(i+1), ev.Version)
		require.Equal(t, recorder.EventID(arn, &want), ev.ID)
		require.Equal(t, want.Type, ev.Type)
		require.Equal(t, arn, ev.Metadata.CorrelationID)
		var data struct {
			Events []sfn.HistoryEvent `json:"events"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &data))
		require.Len(t, data.Events, 1)
		got := data.Events[0]
		require.True(t, want.Timestamp.Truncate(time.Millisecond).Equal(got.Timestamp), "event %d: %s != %s", i+1, want.Timestamp, got.Timestamp)
		got.Timestamp, want.Timestamp = time.Time{}, time.Time{}
		require.Equal(t, want, got)
	}
}

func TestRecordsEachHistoryEventOnceWhenTheEventComesTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.start(t, "twice")
	d := b.finish(t, arn)
	ev := statusChange(t, d)

	first, err := b.recorder.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Greater(t, first.HistoryEvents, 14, "the history spans several pages")
	require.Equal(t, recorder.Result{
		ExecutionARN: arn, Status: "SUCCEEDED", StreamID: eventstore.ExecutionStreamID(arn),
		HistoryEvents: first.HistoryEvents, Appended: first.HistoryEvents, Version: int64(first.HistoryEvents),
	}, first)

	again, err := b.recorder.Handle(context.Background(), ev)
	require.NoError(t, err)
	require.Equal(t, 0, again.Appended)
	require.Equal(t, first.Version, again.Version)
	b.requireStreamIsHistory(t, arn)
}

func TestRunningThenSucceededAppendsTheRest(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.start(t, "in-two-parts")
	running, err := b.client.DescribeExecution(context.Background(), arn)
	require.NoError(t, err)
	part, err := b.recorder.Handle(context.Background(), statusChange(t, running))
	require.NoError(t, err)
	require.Equal(t, "RUNNING", part.Status)
	require.Positive(t, part.Appended)

	d := b.finish(t, arn)
	rest, err := b.recorder.Handle(context.Background(), statusChange(t, d))
	require.NoError(t, err)
	require.Equal(t, rest.HistoryEvents-part.Appended, rest.Appended)
	require.Greater(t, rest.Appended, 0)

	// A late RUNNING event, as EventBridge may deliver out of order,
	// changes nothing.
	late, err := b.recorder.Handle(context.Background(), statusChange(t, running))
	require.NoError(t, err)
	require.Equal(t, 0, late.Appended)
	b.requireStreamIsHistory(t, arn)
}

func TestConcurrentRecordersStoreEachEventOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.start(t, "raced")
	d := b.finish(t, arn)
	ev := statusChange(t, d)
	var wg sync.WaitGroup
	results := make([]recorder.Result, 4)
	for i := range results {
		wg.Go(func() {
			res, err := b.recorder.Handle(context.Background(), ev)
			require.NoError(t, err)
			results[i] = res
		})
	}
	wg.Wait()
	for _, res := range results {
		require.Equal(t, int64(res.HistoryEvents), res.Version, "every recorder leaves the whole history stored")
	}
	b.requireStreamIsHistory(t, arn)
}

func TestRefusesAStreamItDidNotWrite(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.start(t, "foreign")
	d := b.finish(t, arn)
	stream := eventstore.ExecutionStreamID(arn)
	_, err := b.store.Append(context.Background(), stream, eventstore.NoStream,
		eventstore.NewEvent{Type: "ExecutionStarted", Data: json.RawMessage(`{"events":[],"threads":{}}`)})
	require.NoError(t, err)

	_, err = b.recorder.Handle(context.Background(), statusChange(t, d))
	require.ErrorContains(t, err, "holds events the recorder did not write")
	v, err := b.store.StreamVersion(context.Background(), stream)
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
}

func TestContinuesAStreamAnEarlierReleaseWrote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	arn := b.start(t, "upgraded")
	// An earlier release recorded the execution's first events but one,
	// each under the UUIDv5 of its name.
	page, err := b.client.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(t, err)
	require.Greater(t, len(page.Events), 3)
	namespace := uuid.MustParse("6f1c9b52-3c1e-4d5a-9f7e-2b8a4c0d7e31")
	earlier := make([]eventstore.NewEvent, len(page.Events)-1)
	for i, h := range page.Events[:len(earlier)] {
		earlier[i], err = recorder.NewEvent(arn, h)
		require.NoError(t, err)
		earlier[i].ID = uuid.NewSHA1(namespace, []byte(arn+"#"+strconv.FormatInt(h.ID, 10)))
	}
	stream := eventstore.ExecutionStreamID(arn)
	_, err = b.store.Append(ctx, stream, eventstore.NoStream, earlier...)
	require.NoError(t, err)
	// And this release recorded one more, with its time decoded a
	// millisecond off (as another client might): still the recorder's.
	shifted := page.Events[len(earlier)]
	shifted.Timestamp = shifted.Timestamp.Add(-time.Millisecond)
	off, err := recorder.NewEvent(arn, shifted)
	require.NoError(t, err)
	require.NotEqual(t, recorder.EventID(arn, &page.Events[len(earlier)]), off.ID)
	_, err = b.store.Append(ctx, stream, eventstore.Exact(int64(len(earlier))), off)
	require.NoError(t, err)
	earlier = append(earlier, off)

	d := b.finish(t, arn)
	res, err := b.recorder.Handle(ctx, statusChange(t, d))
	require.NoError(t, err)
	require.Equal(t, res.HistoryEvents-len(earlier), res.Appended)
	require.Positive(t, res.Appended)
	stored, err := b.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{})
	require.NoError(t, err)
	require.Len(t, stored, res.HistoryEvents)
	h, err := b.client.GetExecutionHistory(ctx, sfn.GetExecutionHistoryInput{ExecutionARN: arn, MaxResults: 1000})
	require.NoError(t, err)
	for i, ev := range stored {
		if i < len(earlier) {
			require.Equal(t, earlier[i].ID, ev.ID)
			continue
		}
		require.Equal(t, recorder.EventID(arn, &h.Events[i]), ev.ID, "event %d", i+1)
	}
}

func TestEventIDsAreInTheHistorysOrder(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:states:us-east-1:123456789012:execution:recorded:ordered"
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	first := sfn.HistoryEvent{ID: 9, Timestamp: at}
	id := recorder.EventID(arn, &first)
	require.Equal(t, 8, int(id.Version()))
	require.Equal(t, uuid.RFC4122, id.Variant())
	require.Equal(t, id, recorder.EventID(arn, &sfn.HistoryEvent{ID: 9, Timestamp: at.Add(999 * time.Microsecond)}), "Step Functions' milliseconds")
	require.NotEqual(t, id, recorder.EventID(arn, &sfn.HistoryEvent{ID: 10, Timestamp: at}))
	require.NotEqual(t, id, recorder.EventID(arn+"x", &first))
	prev := id
	for i := range 100 {
		// Later events sort after, whatever their ids.
		next := recorder.EventID(arn, &sfn.HistoryEvent{ID: int64(100 - i), Timestamp: at.Add(time.Duration(i+1) * time.Millisecond)})
		require.Negative(t, bytes.Compare(prev[:], next[:]), "event %d", i)
		prev = next
	}
}

func TestUnknownExecutionIsTheServicesError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.recorder.Record(context.Background(), "arn:aws:states:us-east-1:123456789012:execution:recorded:never-started")
	var ee *sfn.Error
	require.True(t, errors.As(err, &ee), "%v", err)
	require.Equal(t, sfn.CodeExecutionDoesNotExist, ee.Code)
}

func TestHandleRefusesOtherEvents(t *testing.T) {
	t.Parallel()
	r, err := recorder.New(recorder.Config{History: &awssfn.Client{}, Store: &eventstore.Store{}})
	require.NoError(t, err)
	for name, ev := range map[string]events.EventBridgeEvent{
		"another detail type": {ID: "1", Source: sfn.StatusChangeSource, DetailType: "AWS API Call via CloudTrail", Detail: json.RawMessage(`{}`)},
		"another source":      {ID: "2", Source: "aws.ec2", DetailType: sfn.StatusChangeDetailType, Detail: json.RawMessage(`{}`)},
		"no execution":        {ID: "3", Source: sfn.StatusChangeSource, DetailType: sfn.StatusChangeDetailType, Detail: json.RawMessage(`{"status":"RUNNING"}`)},
		"a detail not JSON":   {ID: "4", Source: sfn.StatusChangeSource, DetailType: sfn.StatusChangeDetailType, Detail: json.RawMessage(`"x"`)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := r.Handle(context.Background(), ev)
			require.ErrorContains(t, err, "event "+ev.ID)
		})
	}
}

func TestNewChecksItsConfig(t *testing.T) {
	t.Parallel()
	_, err := recorder.New(recorder.Config{})
	require.ErrorContains(t, err, "required")
	_, err = recorder.New(recorder.Config{History: &awssfn.Client{}, Store: &eventstore.Store{}, PageSize: 1001})
	require.ErrorContains(t, err, "PageSize 1001")
}
