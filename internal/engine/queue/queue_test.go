package queue_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// testBundle is a broker with deterministic ids, closed at the end of the
// test. Tests create it inside a synctest bubble, so the broker's timers
// run on the bubble's fake clock.
type testBundle struct {
	b   *queue.Broker
	ctx context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	var n atomic.Int64
	b := queue.New(queue.Config{
		Clock:     clock.System{},
		NewIDFunc: func() string { return fmt.Sprintf("id-%04d", n.Add(1)) },
	})
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	return &testBundle{b: b, ctx: t.Context()}
}

func (tb *testBundle) createQueue(t *testing.T, c queue.QueueConfig) string {
	t.Helper()
	url, err := tb.b.CreateQueue(c)
	require.NoError(t, err)
	return url
}

func (tb *testBundle) send(t *testing.T, url, body string) string {
	t.Helper()
	id, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: body})
	require.NoError(t, err)
	return id
}

func (tb *testBundle) receive(t *testing.T, url string, max int) []events.SQSMessage {
	t.Helper()
	msgs, err := tb.b.ReceiveMessage(tb.ctx, url, max, 0)
	require.NoError(t, err)
	return msgs
}

func (tb *testBundle) stats(t *testing.T, url string) queue.Stats {
	t.Helper()
	s, err := tb.b.Stats(url)
	require.NoError(t, err)
	return s
}

func requireCode(t *testing.T, err error, code string) *queue.Error {
	t.Helper()
	var qe *queue.Error
	require.ErrorAs(t, err, &qe)
	require.Equal(t, code, qe.Code, "error: %v", err)
	return qe
}

func TestCreateQueue(t *testing.T) {
	t.Parallel()
	tb := setup(t)

	url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
	require.Equal(t, "http://sqs.us-east-1.localhost/123456789012/ai-steps", url)

	again, err := tb.b.CreateQueue(queue.QueueConfig{Name: "ai-steps", VisibilityTimeout: 30 * time.Second})
	require.NoError(t, err, "the same configuration, with a default spelled out, is no conflict")
	require.Equal(t, url, again)

	_, err = tb.b.CreateQueue(queue.QueueConfig{Name: "ai-steps", VisibilityTimeout: time.Minute})
	requireCode(t, err, queue.CodeQueueNameExists)

	_, err = tb.b.CreateQueue(queue.QueueConfig{Name: "ai-steps", URL: "https://sqs.us-east-1.amazonaws.com/123456789012/ai-steps"})
	requireCode(t, err, queue.CodeQueueNameExists)

	explicit := tb.createQueue(t, queue.QueueConfig{Name: "mcp-steps", URL: "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-steps"})
	require.Equal(t, "https://sqs.us-east-1.amazonaws.com/123456789012/mcp-steps", explicit)

	for _, tc := range []struct {
		name string
		cfg  queue.QueueConfig
		code string
		msg  string
	}{
		{"EmptyName", queue.QueueConfig{}, queue.CodeInvalidParameterValue, "1 to 80"},
		{"FIFO", queue.QueueConfig{Name: "steps.fifo"}, queue.CodeInvalidParameterValue, "FIFO"},
		{"LongVisibility", queue.QueueConfig{Name: "q1", VisibilityTimeout: 13 * time.Hour}, queue.CodeInvalidAttributeValue, "VisibilityTimeout"},
		{"Delay", queue.QueueConfig{Name: "q2", DelaySeconds: 901}, queue.CodeInvalidAttributeValue, "DelaySeconds"},
		{"Retention", queue.QueueConfig{Name: "q3", MessageRetention: time.Second}, queue.CodeInvalidAttributeValue, "MessageRetention"},
		{"ReceiveCountWithoutDLQ", queue.QueueConfig{Name: "q4", MaxReceiveCount: 3}, queue.CodeInvalidAttributeValue, "without a DeadLetterURL"},
		{"MissingDLQ", queue.QueueConfig{Name: "q5", MaxReceiveCount: 3, DeadLetterURL: "http://nowhere/dlq"}, queue.CodeInvalidParameterValue, "http://nowhere/dlq does not exist"},
		{"NoReceiveCount", queue.QueueConfig{Name: "q6", DeadLetterURL: url}, queue.CodeInvalidAttributeValue, "MaxReceiveCount 0"},
		{"OwnDLQ", queue.QueueConfig{Name: "q7", MaxReceiveCount: 1, DeadLetterURL: "http://sqs.us-east-1.localhost/123456789012/q7"}, queue.CodeInvalidParameterValue, "itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tb.b.CreateQueue(tc.cfg)
			qe := requireCode(t, err, tc.code)
			require.Contains(t, qe.Message, tc.msg)
		})
	}
}

func TestSendMessageErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})

	_, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: "https://sqs.us-east-1.amazonaws.com/123/missing", Body: "{}"})
	qe := requireCode(t, err, queue.CodeQueueDoesNotExist)
	require.Equal(t, "SQS.QueueDoesNotExistException", qe.ErrorName())
	require.Contains(t, err.Error(), "https://sqs.us-east-1.amazonaws.com/123/missing")

	// The engine finds the name through an interface, as Step Functions
	// names a failed task's error.
	var named interface{ ErrorName() string }
	require.True(t, errors.As(fmt.Errorf("wrapped: %w", err), &named))

	for _, tc := range []struct {
		name string
		p    sfn.SendMessageParams
		code string
		msg  string
	}{
		{"EmptyBody", sfn.SendMessageParams{Body: ""}, queue.CodeMissingParameter, "empty"},
		{"TooLarge", sfn.SendMessageParams{Body: strings.Repeat("x", 262_145)}, queue.CodeInvalidParameterValue, "262145 bytes"},
		{"TooLargeWithAttributes", sfn.SendMessageParams{Body: strings.Repeat("x", 262_140), Attributes: map[string]string{"kind": "ai"}}, queue.CodeInvalidParameterValue, "at most 262144"},
		{"ControlCharacter", sfn.SendMessageParams{Body: "a\x00b"}, queue.CodeInvalidMessageContents, "U+0000 at byte 1"},
		{"InvalidUTF8", sfn.SendMessageParams{Body: "a\xffb"}, queue.CodeInvalidMessageContents, "byte 1"},
		{"Delay", sfn.SendMessageParams{Body: "x", DelaySeconds: 901}, queue.CodeInvalidParameterValue, "DelaySeconds 901"},
		{"ReservedAttribute", sfn.SendMessageParams{Body: "x", Attributes: map[string]string{"AWS.Kind": "x"}}, queue.CodeInvalidParameterValue, `"AWS.Kind"`},
		{"AttributeCharacters", sfn.SendMessageParams{Body: "x", Attributes: map[string]string{"a b": "x"}}, queue.CodeInvalidParameterValue, `"a b"`},
		{"AttributeDots", sfn.SendMessageParams{Body: "x", Attributes: map[string]string{"a..b": "x"}}, queue.CodeInvalidParameterValue, "two periods"},
		{"EmptyAttributeValue", sfn.SendMessageParams{Body: "x", Attributes: map[string]string{"kind": ""}}, queue.CodeInvalidParameterValue, "non-empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.p.QueueURL = url
			_, err := tb.b.SendMessage(tb.ctx, tc.p)
			qe := requireCode(t, err, tc.code)
			require.Contains(t, qe.Message, tc.msg)
			require.Contains(t, qe.Message, url)
		})
	}

	t.Run("TooManyAttributes", func(t *testing.T) {
		t.Parallel()
		attrs := map[string]string{}
		for i := range 11 {
			attrs["a"+strconv.Itoa(i)] = "v"
		}
		_, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: "x", Attributes: attrs})
		requireCode(t, err, queue.CodeInvalidParameterValue)
	})

	t.Run("LargestBody", func(t *testing.T) {
		t.Parallel()
		_, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: strings.Repeat("é", 131_072)})
		require.NoError(t, err, "a body of exactly 262,144 bytes is allowed")
	})
}

func TestMessageFields(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		sentAt := time.Now()
		trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
		id, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{
			QueueURL:    url,
			Body:        `{"taskToken":"t1"}`,
			Attributes:  map[string]string{"stepKind": "ai", "executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:e1"},
			TraceHeader: trace,
		})
		require.NoError(t, err)
		time.Sleep(2 * time.Second)

		msgs := tb.receive(t, url, 10)
		require.Len(t, msgs, 1)
		m := msgs[0]
		sum := md5.Sum([]byte(`{"taskToken":"t1"}`))
		require.Equal(t, id, m.MessageId)
		require.NotEmpty(t, m.ReceiptHandle)
		require.Equal(t, `{"taskToken":"t1"}`, m.Body)
		require.Equal(t, hex.EncodeToString(sum[:]), m.Md5OfBody)
		require.Len(t, m.Md5OfMessageAttributes, 32)
		require.Equal(t, "aws:sqs", m.EventSource)
		require.Equal(t, "arn:aws:sqs:us-east-1:123456789012:ai-steps", m.EventSourceARN)
		require.Equal(t, "us-east-1", m.AWSRegion)
		require.Equal(t, map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    strconv.FormatInt(sentAt.UnixMilli(), 10),
			"SenderId":                         "123456789012",
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(sentAt.Add(2*time.Second).UnixMilli(), 10),
			"AWSTraceHeader":                   trace,
		}, m.Attributes)
		require.Len(t, m.MessageAttributes, 2)
		for name, want := range map[string]string{"stepKind": "ai", "executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:e1"} {
			a := m.MessageAttributes[name]
			require.Equal(t, "String", a.DataType)
			require.NotNil(t, a.StringValue)
			require.Equal(t, want, *a.StringValue)
		}

		// Without a trace header there is no AWSTraceHeader attribute, and
		// without message attributes no attributes' digest.
		tb.send(t, url, "plain")
		msgs = tb.receive(t, url, 10)
		require.Len(t, msgs, 1)
		require.NotContains(t, msgs[0].Attributes, "AWSTraceHeader")
		require.Empty(t, msgs[0].MessageAttributes)
		require.Empty(t, msgs[0].Md5OfMessageAttributes)
	})
}

func TestMessageAttributesDigestIgnoresOrder(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
	attrs := map[string]string{}
	for i := range 10 {
		attrs["attr"+strconv.Itoa(i)] = strconv.Itoa(i * i)
	}
	digests := map[string]bool{}
	for range 5 {
		_, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: "x", Attributes: attrs})
		require.NoError(t, err)
		msgs := tb.receive(t, url, 1)
		require.Len(t, msgs, 1)
		digests[msgs[0].Md5OfMessageAttributes] = true
	}
	require.Len(t, digests, 1, "the digest is over the attributes in name order, whatever the map's order")
}

func TestVisibilityTimeoutAndRedelivery(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		id := tb.send(t, url, "work")

		first := tb.receive(t, url, 10)
		require.Len(t, first, 1)
		require.Equal(t, "1", first[0].Attributes["ApproximateReceiveCount"])
		require.Empty(t, tb.receive(t, url, 10), "an in-flight message is invisible")
		require.Equal(t, queue.Stats{InFlight: 1, Sent: 1}, tb.stats(t, url))

		time.Sleep(30*time.Second - time.Millisecond)
		require.Empty(t, tb.receive(t, url, 10), "still invisible just before the timeout ends")
		time.Sleep(time.Millisecond)
		synctest.Wait()
		require.Equal(t, queue.Stats{Visible: 1, Sent: 1}, tb.stats(t, url))

		second := tb.receive(t, url, 10)
		require.Len(t, second, 1)
		require.Equal(t, id, second[0].MessageId)
		require.Equal(t, "2", second[0].Attributes["ApproximateReceiveCount"])
		require.NotEqual(t, first[0].ReceiptHandle, second[0].ReceiptHandle)
		require.Equal(t, first[0].Attributes["ApproximateFirstReceiveTimestamp"], second[0].Attributes["ApproximateFirstReceiveTimestamp"])

		// The first receive's handle is stale now.
		err := tb.b.DeleteMessage(url, first[0].ReceiptHandle)
		qe := requireCode(t, err, queue.CodeReceiptHandleIsInvalid)
		require.Equal(t, "SQS.ReceiptHandleIsInvalidException", qe.ErrorName())
		requireCode(t, tb.b.ChangeMessageVisibility(url, first[0].ReceiptHandle, time.Minute), queue.CodeReceiptHandleIsInvalid)
		requireCode(t, tb.b.DeleteMessage(url, "no-such-handle"), queue.CodeReceiptHandleIsInvalid)

		require.NoError(t, tb.b.DeleteMessage(url, second[0].ReceiptHandle))
		requireCode(t, tb.b.DeleteMessage(url, second[0].ReceiptHandle), queue.CodeReceiptHandleIsInvalid)
		time.Sleep(time.Minute)
		require.Empty(t, tb.receive(t, url, 10), "a deleted message never comes back")
		require.Equal(t, queue.Stats{Sent: 1, Deleted: 1}, tb.stats(t, url))
	})
}

func TestDeleteVisibleWithLatestHandle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", VisibilityTimeout: 5 * time.Second})
		tb.send(t, url, "work")
		msgs := tb.receive(t, url, 1)
		require.Len(t, msgs, 1)
		time.Sleep(6 * time.Second)

		// Visible again but not received again: its latest handle still
		// deletes it, as in SQS, yet it is no longer in flight.
		requireCode(t, tb.b.ChangeMessageVisibility(url, msgs[0].ReceiptHandle, time.Minute), queue.CodeMessageNotInflight)
		require.NoError(t, tb.b.DeleteMessage(url, msgs[0].ReceiptHandle))
		require.Empty(t, tb.receive(t, url, 10))
		require.Equal(t, queue.Stats{Sent: 1, Deleted: 1}, tb.stats(t, url))
	})
}

func TestChangeMessageVisibility(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		tb.send(t, url, "work")
		msgs := tb.receive(t, url, 1)
		require.Len(t, msgs, 1)

		require.NoError(t, tb.b.ChangeMessageVisibility(url, msgs[0].ReceiptHandle, 2*time.Minute))
		time.Sleep(time.Minute)
		require.Empty(t, tb.receive(t, url, 1), "the extended timeout still runs")
		time.Sleep(time.Minute)
		synctest.Wait()
		again := tb.receive(t, url, 1)
		require.Len(t, again, 1)

		require.NoError(t, tb.b.ChangeMessageVisibility(url, again[0].ReceiptHandle, 0))
		third := tb.receive(t, url, 1)
		require.Len(t, third, 1, "a timeout of 0 makes the message visible at once")
		require.Equal(t, "3", third[0].Attributes["ApproximateReceiveCount"])

		requireCode(t, tb.b.ChangeMessageVisibility(url, third[0].ReceiptHandle, 13*time.Hour), queue.CodeInvalidParameterValue)
	})
}

func TestDeadLetterQueue(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		dlq := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps-dlq"})
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", MaxReceiveCount: 3, DeadLetterURL: dlq})
		sentAt := time.Now()
		id, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: "poison", Attributes: map[string]string{"stepKind": "ai"}, TraceHeader: "Root=1-abc"})
		require.NoError(t, err)

		for i := 1; i <= 3; i++ {
			msgs := tb.receive(t, url, 10)
			require.Len(t, msgs, 1, "receive %d", i)
			require.Equal(t, strconv.Itoa(i), msgs[0].Attributes["ApproximateReceiveCount"])
			time.Sleep(30 * time.Second)
			synctest.Wait()
		}
		require.Empty(t, tb.receive(t, url, 10), "received MaxReceiveCount times, the message left the queue")
		require.Equal(t, queue.Stats{Sent: 1, DeadLettered: 1}, tb.stats(t, url))
		require.Equal(t, queue.Stats{Visible: 1}, tb.stats(t, dlq))

		msgs := tb.receive(t, dlq, 10)
		require.Len(t, msgs, 1)
		m := msgs[0]
		require.Equal(t, id, m.MessageId)
		require.Equal(t, "poison", m.Body)
		require.Equal(t, "ai", *m.MessageAttributes["stepKind"].StringValue)
		require.Equal(t, "Root=1-abc", m.Attributes["AWSTraceHeader"])
		require.Equal(t, strconv.FormatInt(sentAt.UnixMilli(), 10), m.Attributes["SentTimestamp"])
		require.Equal(t, "1", m.Attributes["ApproximateReceiveCount"])
		require.Equal(t, "arn:aws:sqs:us-east-1:123456789012:ai-steps-dlq", m.EventSourceARN)
		require.NoError(t, tb.b.DeleteMessage(dlq, m.ReceiptHandle))
	})
}

func TestDelaySeconds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", DelaySeconds: 5})

		_, err := tb.b.SendMessage(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: "own delay", DelaySeconds: 10})
		require.NoError(t, err)
		tb.send(t, url, "queue delay")
		require.Empty(t, tb.receive(t, url, 10))
		require.Equal(t, queue.Stats{Delayed: 2, Sent: 2}, tb.stats(t, url))

		time.Sleep(5 * time.Second)
		synctest.Wait()
		msgs := tb.receive(t, url, 10)
		require.Len(t, msgs, 1)
		require.Equal(t, "queue delay", msgs[0].Body)

		time.Sleep(5 * time.Second)
		synctest.Wait()
		msgs = tb.receive(t, url, 10)
		require.Len(t, msgs, 1)
		require.Equal(t, "own delay", msgs[0].Body)
	})
}

func TestRetention(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", MessageRetention: time.Minute, VisibilityTimeout: 40 * time.Second})
		tb.send(t, url, "received")
		tb.send(t, url, "waiting")
		time.Sleep(30 * time.Second)
		msgs := tb.receive(t, url, 1)
		require.Len(t, msgs, 1)
		require.Equal(t, "received", msgs[0].Body)

		time.Sleep(30 * time.Second)
		require.Equal(t, queue.Stats{InFlight: 1, Sent: 2, Expired: 1}, tb.stats(t, url), "the visible message expired")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		require.Equal(t, queue.Stats{Sent: 2, Expired: 2}, tb.stats(t, url), "the received one expired when its visibility timeout ended")
		require.Empty(t, tb.receive(t, url, 10))
	})
}

func TestLongPolling(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})

		start := time.Now()
		msgs, err := tb.b.ReceiveMessage(tb.ctx, url, 10, 20*time.Second)
		require.NoError(t, err)
		require.Empty(t, msgs)
		require.Equal(t, 20*time.Second, time.Since(start), "an empty long poll waits the whole wait time")

		go func() {
			time.Sleep(5 * time.Second)
			tb.send(t, url, "late")
		}()
		start = time.Now()
		msgs, err = tb.b.ReceiveMessage(tb.ctx, url, 10, 20*time.Second)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, 5*time.Second, time.Since(start), "a long poll returns when a message comes")

		ctx, cancel := context.WithCancel(tb.ctx)
		go func() {
			time.Sleep(time.Second)
			cancel()
		}()
		_, err = tb.b.ReceiveMessage(ctx, url, 10, 20*time.Second)
		require.ErrorIs(t, err, context.Canceled)

		_, err = tb.b.ReceiveMessage(tb.ctx, url, 11, 0)
		requireCode(t, err, queue.CodeInvalidParameterValue)
		_, err = tb.b.ReceiveMessage(tb.ctx, url, 1, 21*time.Second)
		requireCode(t, err, queue.CodeInvalidParameterValue)
		_, err = tb.b.ReceiveMessage(tb.ctx, "http://nowhere/q", 1, 0)
		requireCode(t, err, queue.CodeQueueDoesNotExist)
	})
}

func TestClose(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := queue.New(queue.Config{})
		url, err := b.CreateQueue(queue.QueueConfig{Name: "ai-steps"})
		require.NoError(t, err)

		// A long poll in progress ends with ErrClosed.
		idle, err := b.CreateQueue(queue.QueueConfig{Name: "idle"})
		require.NoError(t, err)
		polled := make(chan error, 1)
		go func() {
			_, err := b.ReceiveMessage(t.Context(), idle, 1, 20*time.Second)
			polled <- err
		}()

		release := make(chan struct{})
		started := make(chan struct{})
		var handled atomic.Bool
		_, err = b.Subscribe(url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			close(started)
			<-release
			handled.Store(true)
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{})
		require.NoError(t, err)
		synctest.Wait()
		_, err = b.SendMessage(t.Context(), sfn.SendMessageParams{QueueURL: url, Body: "x"})
		require.NoError(t, err)
		<-started

		closed := make(chan struct{})
		go func() {
			require.NoError(t, b.Close())
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while a handler was running")
		default:
		}
		require.ErrorIs(t, <-polled, queue.ErrClosed)

		close(release)
		<-closed
		require.True(t, handled.Load())

		_, err = b.SendMessage(t.Context(), sfn.SendMessageParams{QueueURL: url, Body: "x"})
		require.ErrorIs(t, err, queue.ErrClosed)
		_, err = b.CreateQueue(queue.QueueConfig{Name: "other"})
		require.ErrorIs(t, err, queue.ErrClosed)
		_, err = b.Subscribe(url, func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{})
		require.ErrorIs(t, err, queue.ErrClosed)
		require.NoError(t, b.Close(), "closing twice is fine")
	})
}

// TestCloseCancelsRunningHandlers: Close cancels the context of a running
// handler, so one that honours it ends, and Close with it.
func TestCloseWaitsForRunningHandlers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := queue.New(queue.Config{})
		url, err := b.CreateQueue(queue.QueueConfig{Name: "ai-steps"})
		require.NoError(t, err)
		started, ended := make(chan struct{}), make(chan error, 1)
		_, err = b.Subscribe(url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			close(started)
			time.Sleep(time.Second) // the handler's work, then its callback
			ended <- ctx.Err()
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{})
		require.NoError(t, err)
		_, err = b.SendMessage(t.Context(), sfn.SendMessageParams{QueueURL: url, Body: "x"})
		require.NoError(t, err)
		<-started

		begin := time.Now()
		require.NoError(t, b.Close())
		require.Equal(t, time.Second, time.Since(begin), "Close waits for the running handler")
		require.NoError(t, <-ended, "the handler's context lives until it returns")
	})
}

func TestShutdownCancelsRunningHandlersAtItsDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := queue.New(queue.Config{})
		url, err := b.CreateQueue(queue.QueueConfig{Name: "ai-steps"})
		require.NoError(t, err)
		started, ended := make(chan struct{}), make(chan error, 1)
		_, err = b.Subscribe(url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			close(started)
			<-ctx.Done()
			ended <- ctx.Err()
			return events.SQSEventResponse{}, ctx.Err()
		}, queue.MappingConfig{})
		require.NoError(t, err)
		_, err = b.SendMessage(t.Context(), sfn.SendMessageParams{QueueURL: url, Body: "x"})
		require.NoError(t, err)
		<-started

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		begin := time.Now()
		require.ErrorIs(t, b.Shutdown(ctx), context.DeadlineExceeded)
		require.Equal(t, 5*time.Second, time.Since(begin), "Shutdown waits until its deadline, not the handler's timeout")
		require.ErrorIs(t, <-ended, context.Canceled)
		require.NoError(t, b.Shutdown(t.Context()), "a second Shutdown")
	})
}

// TestSendMessageDigest: the digest SendMessageDigest returns is the
// body's MD5, the one a receiver of the message is given.
func TestSendMessageDigest(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	url := tb.createQueue(t, queue.QueueConfig{Name: "digests", VisibilityTimeout: time.Minute})
	body := `{"a":"é"}`
	id, digest, err := tb.b.SendMessageDigest(tb.ctx, sfn.SendMessageParams{QueueURL: url, Body: body})
	require.NoError(t, err)
	sum := md5.Sum([]byte(body))
	require.Equal(t, hex.EncodeToString(sum[:]), digest)
	msgs := tb.receive(t, url, 1)
	require.Len(t, msgs, 1)
	require.Equal(t, id, msgs[0].MessageId)
	require.Equal(t, digest, msgs[0].Md5OfBody)
	_, _, err = tb.b.SendMessageDigest(tb.ctx, sfn.SendMessageParams{QueueURL: url})
	requireCode(t, err, queue.CodeMissingParameter)
}
