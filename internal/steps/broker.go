package steps

import "github.com/aiflow/aiflow/internal/steps/stepevent"

// The Broker of streamed answers lives in package stepevent, so that its
// readers (the API's live stream) link none of this package's SDKs. These
// names are the same types.
type (
	// StreamEvent is stepevent.StreamEvent.
	StreamEvent = stepevent.StreamEvent
	// Broker is stepevent.Broker.
	Broker = stepevent.Broker
)
