package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
)

// recorder is a handler that records the batches it gets and the most
// handlers it saw running at once, and answers with respond.
type recorder struct {
	mu         sync.Mutex
	batches    [][]events.SQSMessage
	running    int
	maxRunning int
	respond    func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)
}

func (r *recorder) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	r.mu.Lock()
	r.batches = append(r.batches, ev.Records)
	r.running++
	r.maxRunning = max(r.maxRunning, r.running)
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()
	if r.respond == nil {
		return events.SQSEventResponse{}, nil
	}
	return r.respond(ctx, ev)
}

func (r *recorder) bodies() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out [][]string
	for _, b := range r.batches {
		var bodies []string
		for _, m := range b {
			bodies = append(bodies, m.Body)
		}
		out = append(out, bodies)
	}
	return out
}

// deliveries counts how many times the handler got each body: batches of
// redelivered messages may be cut differently, as their visibility
// timeouts end in no set order.
func (r *recorder) deliveries() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := map[string]int{}
	for _, b := range r.batches {
		for _, m := range b {
			n[m.Body]++
		}
	}
	return n
}

func (tb *testBundle) subscribe(t *testing.T, url string, h queue.Handler, m queue.MappingConfig) {
	t.Helper()
	stop, err := tb.b.Subscribe(url, h, m)
	require.NoError(t, err)
	t.Cleanup(stop)
}

func TestMappingBatchesAndConcurrency(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		for i := range 50 {
			tb.send(t, url, strconv.Itoa(i))
		}
		r := &recorder{respond: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			time.Sleep(time.Second) // the work, in the bubble's time
			return events.SQSEventResponse{}, nil
		}}
		tb.subscribe(t, url, r.handle, queue.MappingConfig{BatchSize: 5, MaxConcurrency: 3})

		time.Sleep(time.Minute)
		synctest.Wait()
		require.Equal(t, queue.Stats{Sent: 50, Deleted: 50}, tb.stats(t, url))
		require.Equal(t, 3, r.maxRunning)
		seen := map[string]int{}
		for _, batch := range r.bodies() {
			require.Len(t, batch, 5)
			for _, body := range batch {
				seen[body]++
			}
		}
		require.Len(t, seen, 50)
		for body, n := range seen {
			require.Equal(t, 1, n, "message %s handled once", body)
		}
	})
}

func TestMappingThroughputTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		for i := range 10 {
			tb.send(t, url, strconv.Itoa(i))
		}
		var mu sync.Mutex
		var done []time.Duration
		start := time.Now()
		tb.subscribe(t, url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			time.Sleep(time.Second)
			mu.Lock()
			done = append(done, time.Since(start))
			mu.Unlock()
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{BatchSize: 1, MaxConcurrency: 4})
		time.Sleep(time.Minute)
		synctest.Wait()
		// Ten one-second invocations, at most four at once: three rounds.
		require.Len(t, done, 10)
		require.Equal(t, 3*time.Second, done[9])
	})
}

func TestMappingBatchingWindow(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		var mu sync.Mutex
		var at []time.Duration
		var sizes []int
		start := time.Now()
		tb.subscribe(t, url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			defer mu.Unlock()
			at = append(at, time.Since(start))
			sizes = append(sizes, len(ev.Records))
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{BatchSize: 100, MaximumBatchingWindow: 2 * time.Second, MaxConcurrency: 1})

		for i := range 3 {
			tb.send(t, url, strconv.Itoa(i))
		}
		time.Sleep(time.Second)
		for i := range 2 {
			tb.send(t, url, strconv.Itoa(i))
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.Equal(t, []int{5}, sizes, "one batch gathered over the window")
		require.Equal(t, []time.Duration{2 * time.Second}, at, "sent when the window ended")

		// A full batch goes at once, without waiting for the window.
		start = time.Now()
		for i := range 250 {
			tb.send(t, url, strconv.Itoa(i))
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		require.Equal(t, []int{5, 100, 100, 50}, sizes)
		require.Equal(t, []time.Duration{2 * time.Second, 0, 0, 2 * time.Second}, at)
	})
}

func TestMappingPartialBatchFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		ids := map[string]string{}
		for _, body := range []string{"ok-1", "bad", "ok-2"} {
			ids[body] = tb.send(t, url, body)
		}
		r := &recorder{respond: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var resp events.SQSEventResponse
			for _, m := range ev.Records {
				if m.Body == "bad" && m.Attributes["ApproximateReceiveCount"] == "1" {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
				}
			}
			return resp, nil
		}}
		tb.subscribe(t, url, r.handle, queue.MappingConfig{ReportBatchItemFailures: true})
		synctest.Wait()
		require.Equal(t, [][]string{{"ok-1", "bad", "ok-2"}}, r.bodies())
		require.Equal(t, queue.Stats{InFlight: 1, Sent: 3, Deleted: 2}, tb.stats(t, url))

		time.Sleep(30 * time.Second)
		synctest.Wait()
		require.Equal(t, [][]string{{"ok-1", "bad", "ok-2"}, {"bad"}}, r.bodies(), "only the failed message came back")
		r.mu.Lock()
		require.Equal(t, ids["bad"], r.batches[1][0].MessageId)
		require.Equal(t, "2", r.batches[1][0].Attributes["ApproximateReceiveCount"])
		r.mu.Unlock()
		require.Equal(t, queue.Stats{Sent: 3, Deleted: 3}, tb.stats(t, url))
	})
}

func TestMappingInvalidItemIdentifierFailsBatch(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "not-in-the-batch"} {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				tb := setup(t)
				url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
				tb.send(t, url, "a")
				tb.send(t, url, "b")
				r := &recorder{respond: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
					if ev.Records[0].Attributes["ApproximateReceiveCount"] != "1" {
						return events.SQSEventResponse{}, nil
					}
					return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: id}}}, nil
				}}
				tb.subscribe(t, url, r.handle, queue.MappingConfig{ReportBatchItemFailures: true})
				synctest.Wait()
				require.Equal(t, queue.Stats{InFlight: 2, Sent: 2}, tb.stats(t, url), "the whole batch failed")
				time.Sleep(30 * time.Second)
				synctest.Wait()
				require.Equal(t, map[string]int{"a": 2, "b": 2}, r.deliveries())
				require.Equal(t, queue.Stats{Sent: 2, Deleted: 2}, tb.stats(t, url))
			})
		})
	}
}

func TestMappingIgnoresFailuresWithoutReportBatchItemFailures(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		tb.send(t, url, "a")
		tb.send(t, url, "b")
		r := &recorder{respond: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
		}}
		tb.subscribe(t, url, r.handle, queue.MappingConfig{})
		synctest.Wait()
		require.Equal(t, queue.Stats{Sent: 2, Deleted: 2}, tb.stats(t, url), "the response is ignored and the batch deleted, as Lambda does")
	})
}

func TestMappingHandlerFailureReturnsWholeBatch(t *testing.T) {
	t.Parallel()
	failures := map[string]func(ctx context.Context) (events.SQSEventResponse, error){
		"Error": func(context.Context) (events.SQSEventResponse, error) {
			return events.SQSEventResponse{}, errors.New("model unavailable")
		},
		"Panic": func(context.Context) (events.SQSEventResponse, error) {
			panic("nil map")
		},
		"Timeout": func(ctx context.Context) (events.SQSEventResponse, error) {
			<-ctx.Done()
			return events.SQSEventResponse{}, nil
		},
	}
	for name, fail := range failures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				tb := setup(t)
				dlq := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps-dlq"})
				url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", VisibilityTimeout: time.Minute, MaxReceiveCount: 2, DeadLetterURL: dlq})
				tb.send(t, url, "a")
				tb.send(t, url, "b")
				r := &recorder{respond: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
					return fail(ctx)
				}}
				tb.subscribe(t, url, r.handle, queue.MappingConfig{ReportBatchItemFailures: true, FunctionTimeout: 10 * time.Second})
				synctest.Wait()
				time.Sleep(20 * time.Second)
				synctest.Wait()
				require.Equal(t, queue.Stats{InFlight: 2, Sent: 2}, tb.stats(t, url), "nothing deleted")
				require.Equal(t, [][]string{{"a", "b"}}, r.bodies())

				time.Sleep(40 * time.Second)
				synctest.Wait()
				require.Equal(t, map[string]int{"a": 2, "b": 2}, r.deliveries(), "the batch came back after the visibility timeout")

				time.Sleep(time.Minute)
				synctest.Wait()
				require.Equal(t, queue.Stats{Sent: 2, DeadLettered: 2}, tb.stats(t, url), "after two receives the batch went to the dead-letter queue")
				require.Equal(t, 2, tb.stats(t, dlq).Visible)
			})
		})
	}
}

func TestMappingContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps", VisibilityTimeout: time.Minute})
		type seen struct {
			deadline time.Time
			lc       *lambdacontext.LambdaContext
		}
		got := make(chan seen, 1)
		tb.subscribe(t, url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			d, _ := ctx.Deadline()
			lc, _ := lambdacontext.FromContext(ctx)
			got <- seen{d, lc}
			return events.SQSEventResponse{}, nil
		}, queue.MappingConfig{FunctionTimeout: 45 * time.Second, FunctionName: "aistep"})
		start := time.Now()
		tb.send(t, url, "x")
		s := <-got
		require.Equal(t, start.Add(45*time.Second), s.deadline)
		require.NotNil(t, s.lc)
		require.NotEmpty(t, s.lc.AwsRequestID)
		require.Equal(t, "arn:aws:lambda:us-east-1:123456789012:function:aistep", s.lc.InvokedFunctionArn)
	})
}

func TestMappingStopReleasesGatheredMessages(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		r := &recorder{}
		stop, err := tb.b.Subscribe(url, r.handle, queue.MappingConfig{BatchSize: 20, MaximumBatchingWindow: 10 * time.Second})
		require.NoError(t, err)
		tb.send(t, url, "a")
		synctest.Wait()
		require.Equal(t, queue.Stats{InFlight: 1, Sent: 1}, tb.stats(t, url), "gathered, waiting for the window")
		stop()
		require.Empty(t, r.bodies())
		require.Equal(t, queue.Stats{Visible: 1, Sent: 1}, tb.stats(t, url), "stopping returned the gathered message")
		stop()
	})
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	tb := setup(t)
	url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
	ok := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	for _, tc := range []struct {
		name string
		url  string
		h    queue.Handler
		m    queue.MappingConfig
		code string
		msg  string
	}{
		{"UnknownQueue", "http://nowhere/q", ok, queue.MappingConfig{}, queue.CodeQueueDoesNotExist, "http://nowhere/q"},
		{"NilHandler", url, nil, queue.MappingConfig{}, queue.CodeInvalidParameterValue, "handler is nil"},
		{"BatchSize", url, ok, queue.MappingConfig{BatchSize: 10001, MaximumBatchingWindow: time.Second}, queue.CodeInvalidParameterValue, "BatchSize 10001"},
		{"BatchWithoutWindow", url, ok, queue.MappingConfig{BatchSize: 11}, queue.CodeInvalidParameterValue, "MaximumBatchingWindow of at least 1s"},
		{"Window", url, ok, queue.MappingConfig{MaximumBatchingWindow: 301 * time.Second}, queue.CodeInvalidParameterValue, "MaximumBatchingWindow"},
		{"Concurrency", url, ok, queue.MappingConfig{MaxConcurrency: 1001}, queue.CodeInvalidParameterValue, "MaxConcurrency 1001"},
		{"TimeoutOverVisibility", url, ok, queue.MappingConfig{FunctionTimeout: time.Minute}, queue.CodeInvalidParameterValue, "visibility timeout 30s is less than the FunctionTimeout 1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := tb.b.Subscribe(tc.url, tc.h, tc.m)
			qe := requireCode(t, err, tc.code)
			require.Contains(t, qe.Message, tc.msg)
		})
	}
}

func TestConcurrentProducersAndConsumers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tb := setup(t)
		url := tb.createQueue(t, queue.QueueConfig{Name: "ai-steps"})
		var mu sync.Mutex
		handled := map[string]int{}
		count := func(ev events.SQSEvent) {
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ev.Records {
				handled[m.Body]++
			}
		}
		// Two mappings and a polling worker compete for the same queue.
		for range 2 {
			tb.subscribe(t, url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				time.Sleep(10 * time.Millisecond)
				count(ev)
				return events.SQSEventResponse{}, nil
			}, queue.MappingConfig{BatchSize: 7, MaxConcurrency: 3})
		}
		pollerDone := make(chan struct{})
		ctx, cancel := context.WithCancel(tb.ctx)
		go func() {
			defer close(pollerDone)
			for {
				msgs, err := tb.b.ReceiveMessage(ctx, url, 10, 20*time.Second)
				if err != nil {
					return
				}
				count(events.SQSEvent{Records: msgs})
				for _, m := range msgs {
					if err := tb.b.DeleteMessage(url, m.ReceiptHandle); err != nil {
						t.Errorf("deleting %s: %v", m.MessageId, err)
					}
				}
			}
		}()
		var senders sync.WaitGroup
		for s := range 4 {
			senders.Go(func() {
				for i := range 100 {
					tb.send(t, url, fmt.Sprintf("%d-%d", s, i))
					if i%10 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		senders.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		cancel()
		<-pollerDone

		require.Equal(t, queue.Stats{Sent: 400, Deleted: 400}, tb.stats(t, url))
		require.Len(t, handled, 400)
		for body, n := range handled {
			require.Equal(t, 1, n, "message %s handled once", body)
		}
	})
}
