package stack

import (
	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// startQueues makes the queue broker and the template's queues on it, each
// dead-letter queue before the queues that redrive to it.
//
// The broker keeps its messages in memory: messages waiting when the stack
// stops are gone on the next start (the engine's executions are durable and
// their task steps time out or are stopped), where SQS would keep them.
func (s *Stack) startQueues() error {
	s.broker = queue.New(queue.Config{Region: s.p.Region, AccountID: s.p.AccountID, Logger: s.logger})
	made := map[string]string{} // logical id -> URL
	var make func(q stackmodel.Queue, depth int) error
	make = func(q stackmodel.Queue, depth int) error {
		if _, ok := made[q.LogicalID]; ok {
			return nil
		}
		if depth > len(s.model.Queues) {
			return resourceErr(q.LogicalID, "Properties.RedrivePolicy", "the queues' redrive policies form a cycle")
		}
		if q.FIFO {
			return resourceErr(q.LogicalID, "", "FIFO queues are not run by the stack")
		}
		cfg := queue.QueueConfig{
			Name: q.Name, URL: q.URL,
			VisibilityTimeout:      q.VisibilityTimeout,
			DelaySeconds:           int(q.Delay.Seconds()),
			MessageRetention:       q.MessageRetention,
			MaximumMessageSize:     q.MaximumMessageSize,
			ReceiveMessageWaitTime: q.ReceiveMessageWaitTime,
		}
		if q.DeadLetter != nil {
			dlq, ok := s.model.Queue(q.DeadLetter.Queue)
			if !ok {
				return resourceErr(q.LogicalID, "Properties.RedrivePolicy", "the dead-letter queue %s is not one of the stack's queues", q.DeadLetter.ARN)
			}
			if err := make(dlq, depth+1); err != nil {
				return err
			}
			cfg.DeadLetterURL, cfg.MaxReceiveCount = made[dlq.LogicalID], q.DeadLetter.MaxReceiveCount
		}
		url, err := s.broker.CreateQueue(cfg)
		if err != nil {
			return resourceErr(q.LogicalID, "", "creating the queue %s: %w", q.Name, err)
		}
		made[q.LogicalID] = url
		return nil
	}
	for _, q := range s.model.Queues {
		if err := make(q, 0); err != nil {
			return err
		}
	}
	return nil
}
