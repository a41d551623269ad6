package httpapi

import (
	"sync"

	"github.com/aiflow/aiflow/internal/steps/stepevent"
)

// BrokerStream is the TokenStream of a stepevent.Broker: the model tokens of
// ai steps running in the same process (aiflow dev).
type BrokerStream struct {
	Broker *stepevent.Broker
	// Buffer is each subscription's buffer; 0 means the broker's default.
	Buffer int
}

// SubscribeTokens subscribes to the broker's events of executionARN.
func (b BrokerStream) SubscribeTokens(executionARN string) (<-chan TokenEvent, func()) {
	sub := b.Broker.Subscribe(executionARN, b.Buffer)
	out := make(chan TokenEvent, cap(sub.C))
	done := make(chan struct{})
	var once sync.Once
	stop := func() {
		once.Do(func() {
			close(done)
			sub.Close()
		})
	}
	go func() {
		defer close(out)
		for ev := range sub.C {
			select {
			case out <- TokenEvent{Step: ev.StepID, Attempt: ev.Attempt, Turn: ev.Turn, Text: ev.Text}:
			case <-done:
				return
			}
		}
	}()
	return out, stop
}
