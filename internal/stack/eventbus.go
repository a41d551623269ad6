package stack

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aiflow/aiflow/internal/eventbridge"
	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/sfn"
)

// eventBus delivers the engine's execution status changes to the
// template's EventBridge rules: a durable subscription on the state
// machines' event log, the bus that matches the rules and invokes their
// targets with their retry policies and dead-letter queues.
type eventBus struct {
	bus     *eventbridge.Bus
	changes *eventbridge.StatusChanges
	wg      sync.WaitGroup
	cancel  context.CancelFunc
}

// startEventBus starts the event bus when the template has rules.
func (s *Stack) startEventBus(ctx context.Context) error {
	if len(s.model.Rules) == 0 {
		return nil
	}
	bus, err := eventbridge.NewBus(eventbridge.BusParams{
		Rules: s.model.Rules,
		Invoke: func(ctx context.Context, function string, payload []byte) (*lambdaemu.Result, error) {
			return s.functions.invoke(ctx, function, payload)
		},
		SendToQueue: func(ctx context.Context, queueID, body string, attributes map[string]string) error {
			q, ok := s.model.Queue(queueID)
			if !ok {
				return fmt.Errorf("the stack has no queue %s", queueID)
			}
			_, err := s.broker.SendMessage(ctx, sfn.SendMessageParams{QueueURL: q.URL, Body: body, Attributes: attributes})
			return err
		},
		Logger: s.logger, Region: s.p.Region, AccountID: s.p.AccountID,
		// A scheduled rule's first event comes at once, not one rate after
		// the start: the health checker's first round runs as the stack
		// starts, so registered instances need not wait a minute.
		FireSchedulesAtStart: true,
	})
	if err != nil {
		return fmt.Errorf("making the EventBridge rules: %w", err)
	}
	changes, err := eventbridge.NewStatusChanges(eventbridge.StatusChangesParams{
		Store: s.engineEvents, Bus: bus, Executions: s.eng,
		Region: s.p.Region, AccountID: s.p.AccountID, Logger: s.logger,
	})
	if err != nil {
		_ = bus.Close(ctx)
		return fmt.Errorf("following the executions' status changes: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b := &eventBus{bus: bus, changes: changes, cancel: cancel}
	b.wg.Go(func() {
		if err := changes.Run(runCtx); err != nil {
			s.logger.Error("following the executions' status changes", "error", err)
		}
	})
	s.bus = b
	return nil
}

// close stops following status changes (a delivery in flight is redone on
// the next start), then the bus's retries.
func (b *eventBus) close(ctx context.Context) error {
	errs := []error{b.changes.Close(ctx)}
	b.cancel()
	b.wg.Wait()
	errs = append(errs, b.bus.Close(ctx))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stopping the event bus: %w", err)
	}
	return nil
}
