package eventstore

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// delays records the retry_in of each "reconnecting" log line.
type delays struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *delays) Enabled(context.Context, slog.Level) bool { return true }
func (l *delays) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *delays) WithGroup(string) slog.Handler            { return l }
func (l *delays) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "retry_in" {
			l.mu.Lock()
			l.d = append(l.d, a.Value.Duration())
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

// TestReconnectBackoffResetsAfterAHealthyRun: the pause doubles while
// runs fail at once, and starts over after a run that stayed up for a
// healthy interval.
func TestReconnectBackoffResetsAfterAHealthyRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		log := &delays{}
		ctx, cancel := context.WithCancel(t.Context())
		runs := 0
		err := retryUntilDone(ctx, slog.New(log), "test", 100*time.Millisecond, 30*time.Second, func(ctx context.Context) error {
			runs++
			switch {
			case runs == 5:
				time.Sleep(healthyRun) // connected and reading for a while
			case runs == 8:
				cancel()
				return ctx.Err()
			}
			return errors.New("connection refused")
		})
		require.ErrorIs(t, err, context.Canceled)
		ms := time.Millisecond
		require.Equal(t, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 100 * ms, 200 * ms, 400 * ms}, log.d)
	})
}
