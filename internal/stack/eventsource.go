package stack

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/engine/queue"
)

// startEventSources subscribes each function to the queues of its SQS
// events, as Lambda's event source mappings do: batches of up to BatchSize
// messages gathered for up to MaximumBatchingWindow, at most
// MaximumConcurrency (within the function's instances) at once, deleted
// when the function succeeds, but for the items it reports failed when the
// mapping has ReportBatchItemFailures. A failed invocation (a function
// error, a timeout, an instance that died) deletes nothing: its messages
// come back after the queue's visibility timeout, and go to the
// dead-letter queue after its maxReceiveCount.
func (s *Stack) startEventSources() error {
	for _, f := range s.model.Functions {
		fn := s.functions.byID[f.LogicalID]
		for _, ev := range f.SQSEvents {
			if !ev.Enabled {
				continue
			}
			q, ok := s.model.Queue(ev.Queue)
			if !ok {
				return resourceErr(f.LogicalID, "Properties.Events."+ev.Name, "the queue %s is not one of the stack's queues", ev.QueueARN)
			}
			concurrency := fn.pool.Size()
			if ev.MaximumConcurrency > 0 && ev.MaximumConcurrency < concurrency {
				concurrency = ev.MaximumConcurrency
			}
			id := f.LogicalID
			stop, err := s.broker.Subscribe(q.URL, func(ctx context.Context, batch events.SQSEvent) (events.SQSEventResponse, error) {
				return s.deliverBatch(ctx, id, batch)
			}, queue.MappingConfig{
				BatchSize:               ev.BatchSize,
				MaximumBatchingWindow:   ev.MaximumBatchingWindow,
				MaxConcurrency:          concurrency,
				ReportBatchItemFailures: ev.ReportBatchItemFailures,
				FunctionTimeout:         f.Timeout,
				FunctionName:            f.Name,
			})
			if err != nil {
				return resourceErr(f.LogicalID, "Properties.Events."+ev.Name, "subscribing to %s: %w", q.Name, err)
			}
			s.stopESMs = append(s.stopESMs, stop)
		}
	}
	return nil
}

// deliverBatch invokes the function with one batch and reads its partial
// batch response.
func (s *Stack) deliverBatch(ctx context.Context, function string, batch events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	payload, err := json.Marshal(batch)
	if err != nil {
		return resp, fmt.Errorf("encoding the batch for %s: %w", function, err)
	}
	res, err := s.functions.invoke(ctx, function, payload)
	if err != nil {
		return resp, err
	}
	if res.FunctionError != nil {
		return resp, res.FunctionError
	}
	if len(res.Payload) > 0 && string(res.Payload) != "null" {
		if err := json.Unmarshal(res.Payload, &resp); err != nil {
			// Lambda treats a response it cannot read as a failure of the
			// whole batch.
			return resp, fmt.Errorf("reading the batch response of %s: %w", function, err)
		}
	}
	return resp, nil
}
