package router_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
	"github.com/aiflow/aiflow/internal/registry/router"
)

// TestOnTheRegistry routes over the registry's use cases on its memory
// store: a drained instance gets no new calls, an opening breaker ejects
// its instance through the registry, and a missed heartbeat takes an
// instance out.
func TestOnTheRegistry(t *testing.T) {
	t.Parallel()
	clock := clocktest.NewManual(registrytest.T0)
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), NowFunc: clock.Now})
	require.NoError(t, err)
	ctx := t.Context()
	svc := registrytest.Unchecked("threat-intel", "1.2.0")
	for _, id := range []string{"a", "b", "c"} {
		svc.Instances = append(svc.Instances, registrytest.Endpoint("threat-intel", "1.2.0", id))
	}
	_, err = reg.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)

	r, err := router.New(router.Config{
		Source: reg, NowFunc: clock.Now, FailureThreshold: 1, CoolDown: time.Minute,
		OnEjectFunc: func(ctx context.Context, e router.Ejection) {
			_, err := reg.Eject(ctx, e.Service, e.InstanceID, e.Reason, e.For)
			require.NoError(t, err)
		},
	})
	require.NoError(t, err)
	ids := func() map[string]int {
		t.Helper()
		got := map[string]int{}
		for range 6 {
			rt, err := r.Route(ctx, getReputation)
			require.NoError(t, err)
			p, err := rt.Next()
			require.NoError(t, err)
			got[p.Instance.ID]++
			p.Succeeded()
		}
		return got
	}
	require.Equal(t, map[string]int{"a": 2, "b": 2, "c": 2}, ids())

	_, err = reg.Drain(ctx, registrytest.ServiceCaller("threat-intel"), "threat-intel", "b")
	require.NoError(t, err)
	r.Invalidate()
	require.Equal(t, map[string]int{"a": 3, "c": 3}, ids(), "a draining instance gets no new calls")

	rt, err := r.Route(ctx, getReputation)
	require.NoError(t, err)
	p, err := rt.Next()
	require.NoError(t, err)
	p.Failed(ctx, errors.New("connection refused"))
	failed := p.Instance.ID
	got, err := reg.Get(ctx, "threat-intel")
	require.NoError(t, err)
	for _, in := range got[0].Instances {
		if in.ID == failed {
			require.Equal(t, registry.StatusUnhealthy, in.Status)
			require.Contains(t, in.StatusReason, "circuit breaker opened: 1 failed calls in a row; the last: connection refused")
		}
	}
	r.Invalidate()
	only := ids()
	require.Len(t, only, 1)
	require.NotContains(t, only, failed)

	// No heartbeat for longer than the TTL: every instance reads as
	// unhealthy.
	clock.Advance(31 * time.Second)
	r.Invalidate()
	_, err = r.Route(ctx, getReputation)
	require.ErrorIs(t, err, router.ErrUnavailable)
}
