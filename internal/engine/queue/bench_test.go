package queue_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// BenchmarkSendHandleDelete measures the broker's throughput from
// SendMessage through an event source mapping's handler to the delete of
// the handled message, on the system clock.
func BenchmarkSendHandleDelete(b *testing.B) {
	for _, bc := range []struct{ batch, concurrency int }{{1, 2}, {10, 2}, {10, 8}} {
		b.Run(fmt.Sprintf("batch=%d/concurrency=%d", bc.batch, bc.concurrency), func(b *testing.B) {
			br := queue.New(queue.Config{})
			defer br.Close()
			url, err := br.CreateQueue(queue.QueueConfig{Name: "bench"})
			require.NoError(b, err)
			var handled atomic.Int64
			target := int64(b.N)
			done := make(chan struct{})
			stop, err := br.Subscribe(url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				if handled.Add(int64(len(ev.Records))) == target {
					close(done)
				}
				return events.SQSEventResponse{}, nil
			}, queue.MappingConfig{BatchSize: bc.batch, MaxConcurrency: bc.concurrency})
			require.NoError(b, err)
			p := sfn.SendMessageParams{QueueURL: url, Body: `{"taskToken":"AQCEAAAAKgAAAAMAAAAAAAAAAQ","input":{"ticket":"T-1"}}`, Attributes: map[string]string{"stepKind": "ai"}}
			ctx := context.Background()

			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := br.SendMessage(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
			<-done
			stop()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			s, err := br.Stats(url)
			require.NoError(b, err)
			require.Equal(b, int64(b.N), s.Deleted)
		})
	}
}
