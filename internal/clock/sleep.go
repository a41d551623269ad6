package clock

import (
	"context"
	"time"
)

// Sleep waits d on the system's time, or until ctx ends, and returns ctx's
// error then: the wait of a retry's backoff, for code that takes its sleep
// as a field (a SleepFunc) so that tests can replace it.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
