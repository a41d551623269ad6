package router_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/registry/router"
)

func TestOnBreakerFuncHearsBreakersOpenAndClose(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var changes []router.BreakerChange
	b := setup(t, router.Config{FailureThreshold: 2, CoolDown: time.Minute, OnBreakerFunc: func(c router.BreakerChange) {
		mu.Lock()
		changes = append(changes, c)
		mu.Unlock()
	}}, svc("threat-intel", "1.2.0", "", inst("a")))
	heard := func() []router.BreakerChange {
		mu.Lock()
		defer mu.Unlock()
		return append([]router.BreakerChange(nil), changes...)
	}
	down := errors.New("connection refused")

	b.pick(t, getReputation).Failed(t.Context(), down)
	require.Empty(t, heard(), "one failure opens nothing")
	b.pick(t, getReputation).Failed(t.Context(), down)
	open := router.BreakerChange{Service: "threat-intel", Version: "1.2.0", InstanceID: "a", State: router.Open}
	require.Equal(t, []router.BreakerChange{open}, heard())

	b.clock.Advance(time.Minute)
	b.pick(t, getReputation).Succeeded() // the probe
	closed := open
	closed.State = router.Closed
	require.Equal(t, []router.BreakerChange{open, closed}, heard())
	b.pick(t, getReputation).Succeeded()
	require.Len(t, heard(), 2, "a closed breaker's success changes nothing")
}
