package stack

import (
	"context"
	"net"
)

// eventBus delivers the engine's status changes to the template's rules.
type eventBus struct{}

func (b *eventBus) close(context.Context) error { return nil }

// startFronts serves the HTTP APIs and function URLs.
func (s *Stack) startFronts(ctx context.Context, apis, urls map[string]net.Listener) error {
	return nil
}

// startEventBus delivers the engine's status changes to the rules' targets.
func (s *Stack) startEventBus(ctx context.Context) error { return nil }
