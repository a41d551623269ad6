package main

import (
	"context"
	"io"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/health"
)

// TestExampleServicesJoinAndLeave runs the command against aiflow's API
// (in process, with the egress guard checking endpoints and a health
// checker): both services register, turn healthy, and on the end of ctx
// drain and deregister.
func TestExampleServicesJoinAndLeave(t *testing.T) {
	t.Parallel()
	key := []byte("a development key of 32 bytes...")
	guard := egress.New(egress.Config{})
	reg, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), CheckEndpointFunc: guard.CheckEndpoint})
	require.NoError(t, err)
	verifier, err := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: key})
	require.NoError(t, err)
	api := httptest.NewServer(httpapi.New(httpapi.Options{Authenticator: verifier, Registry: reg}))
	t.Cleanup(api.Close)
	token, err := auth.MintDevToken(key, "dev", []auth.Role{auth.RoleAdmin}, time.Hour)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	checker, err := health.New(health.Config{Registry: reg, Tick: 50 * time.Millisecond, ClientFunc: guard.InstanceClient})
	require.NoError(t, err)
	var wg sync.WaitGroup
	wg.Go(func() { _ = checker.Run(ctx) })
	var runErr error
	wg.Go(func() { runErr = run(ctx, []string{"--api", api.URL, "--token", token}, io.Discard) })

	status := func() map[string]registry.Status {
		svcs, err := reg.List(context.Background(), registry.ListFilter{})
		require.NoError(t, err)
		out := map[string]registry.Status{}
		for _, s := range svcs {
			for _, in := range s.Instances {
				out[s.Name] = in.Status
			}
		}
		return out
	}
	require.Eventually(t, func() bool {
		st := status()
		return st["threat-intel"] == registry.StatusHealthy && st["incident-desk"] == registry.StatusHealthy
	}, time.Minute, 50*time.Millisecond, "the services registered and passed their health checks")

	cancel()
	wg.Wait()
	require.NoError(t, runErr)
	require.Empty(t, status(), "both instances drained and deregistered")
	events, err := reg.History(context.Background(), "threat-intel", 0, 100)
	require.NoError(t, err)
	var types []registry.EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Contains(t, types, registry.EventInstanceDraining)
	require.Contains(t, types, registry.EventInstanceDeregistered)
}
