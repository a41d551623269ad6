// Package detailstore keeps the detail events of step workers (model,
// tokens, cost, latency, attempts, tools) in the event store, beside the
// execution's history: one sibling stream per execution, named by
// eventstore.DetailStreamID. It is the steps.DetailRecorder of workers with a database.
package detailstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/eventstore"
	"github.com/aiflow/aiflow/internal/steps/stepevent"
)

// Store records detail events in an event store.
type Store struct {
	events *eventstore.Store
	actor  string
}

// New returns a Store appending to events; actor names the worker in each
// event's metadata (such as "aistep").
func New(events *eventstore.Store, actor string) *Store {
	return &Store{events: events, actor: actor}
}

// RecordDetail appends d to its execution's detail stream, whatever the
// stream's version: workers of one execution append concurrently. Errors
// are the event store's, wrapped.
func (s *Store) RecordDetail(ctx context.Context, d stepevent.Detail) error {
	data, err := json.Marshal(d.Data)
	if err != nil {
		return fmt.Errorf("encoding the %s detail: %w", d.Type, err)
	}
	stream := eventstore.DetailStreamID(d.ExecutionID)
	_, err = s.events.Append(ctx, stream, eventstore.Any, eventstore.NewEvent{
		Type:     d.Type,
		Data:     data,
		Metadata: eventstore.Metadata{CorrelationID: d.ExecutionID, Actor: s.actor},
	})
	if err != nil {
		return fmt.Errorf("appending the %s detail to %s: %w", d.Type, stream, err)
	}
	return nil
}

// pageSize is how many events ExecutionUsage reads at a time.
const pageSize = 1000

// ExecutionUsage sums the tokens of the execution's AIModelCalled events.
func (s *Store) ExecutionUsage(ctx context.Context, executionID string) (ai.Usage, error) {
	stream := eventstore.DetailStreamID(executionID)
	var total ai.Usage
	from := int64(1)
	for {
		evs, err := s.events.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Limit: pageSize})
		if err != nil {
			return ai.Usage{}, fmt.Errorf("reading the details of %s: %w", executionID, err)
		}
		for _, ev := range evs {
			if ev.Type != stepevent.DetailModelCalled {
				continue
			}
			var c stepevent.ModelCall
			if err := json.Unmarshal(ev.Data, &c); err != nil {
				return ai.Usage{}, fmt.Errorf("reading %s event %d of %s: %w", ev.Type, ev.Version, stream, err)
			}
			total = total.Add(ai.Usage{InputTokens: c.InputTokens, OutputTokens: c.OutputTokens})
		}
		if len(evs) < pageSize {
			return total, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// Details returns the execution's detail events, oldest first, as stored.
func (s *Store) Details(ctx context.Context, executionID string) ([]eventstore.Event, error) {
	stream := eventstore.DetailStreamID(executionID)
	var all []eventstore.Event
	from := int64(1)
	for {
		evs, err := s.events.ReadStream(ctx, stream, eventstore.ReadStreamOptions{From: from, Limit: pageSize})
		if err != nil {
			return nil, fmt.Errorf("reading the details of %s: %w", executionID, err)
		}
		all = append(all, evs...)
		if len(evs) < pageSize {
			return all, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}
