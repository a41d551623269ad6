package stack

import (
	"context"
	"net"
)

// startFronts serves the HTTP APIs and function URLs.
func (s *Stack) startFronts(ctx context.Context, apis, urls map[string]net.Listener) error {
	return nil
}
