package service_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/service"
)

// TestTypesMirrorTheRegistry: every field of the registry's JSON has its
// place in this package's types, and back, so nothing is lost either way.
func TestTypesMirrorTheRegistry(t *testing.T) {
	t.Parallel()
	yes := true
	at := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	in := registry.Instance{ID: "ti-1", Service: "threat-intel", Version: "1.2.0", Endpoint: "https://ti-1.example.com",
		FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:ti", Weight: 5, Zone: "z", Internal: true,
		Metadata: map[string]string{"k": "v"}, Status: registry.StatusHealthy, StatusReason: "r", TTLSeconds: 9,
		RegisteredAt: at, HeartbeatAt: at, CheckPasses: 1, CheckFailures: 2, CheckedAt: at, EjectedUntil: at}
	svc := registry.Service{Name: "threat-intel", Version: "1.2.0", Description: "d", Capabilities: []string{"ip.reputation"},
		Metadata: map[string]string{"owner": "secops"},
		Operations: []registry.Operation{{Name: "reputation", Method: "GET", Path: "/v1/ip/{ip}/reputation", Idempotent: &yes,
			RequestSchema: json.RawMessage(`{"type":"object"}`), ResponseSchema: json.RawMessage(`{"type":"object"}`), TimeoutSeconds: 3}},
		Auth:        &registry.Auth{Type: "header", Secret: "ti-key", Header: "X-Api-Key"},
		HealthCheck: &registry.HealthCheck{Path: "/healthz", ExpectedStatus: 204, IntervalSeconds: 1, TimeoutSeconds: 2, HealthyThreshold: 3, UnhealthyThreshold: 4},
		Balancing:   registry.BalancingWeighted, Instances: []registry.Instance{in}, RegisteredAt: at, UpdatedAt: at}
	ev := registry.Event{Sequence: 3, Type: registry.EventInstanceEjected, At: at, Actor: "a", Service: "threat-intel", Version: "1.2.0",
		Instance: "ti-1", From: registry.StatusHealthy, To: registry.StatusUnhealthy, Reason: "r",
		Check: &registry.CheckResult{Service: "threat-intel", Instance: "ti-1", Passed: true, At: at}, Until: at, Definition: &svc, State: &in}

	for _, tc := range []struct {
		from       any
		mirror, to func() any
	}{
		{svc, func() any { return &service.Definition{} }, func() any { return &registry.Service{} }},
		{ev, func() any { return &service.Event{} }, func() any { return &registry.Event{} }},
	} {
		want, err := json.Marshal(tc.from)
		require.NoError(t, err)
		mirror := tc.mirror()
		dec := json.NewDecoder(bytes.NewReader(want))
		dec.DisallowUnknownFields()
		require.NoError(t, dec.Decode(mirror), "every field of the registry's JSON is mirrored")
		back, err := json.Marshal(mirror)
		require.NoError(t, err)
		require.JSONEq(t, string(want), string(back), "and comes back as it was")
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := service.NewClient(service.ClientOptions{APIURL: b.api.URL + "/", Token: b.admin})
	require.NoError(t, err)

	_, _, err = c.Register(t.Context(), service.Definition{Name: "Bad Name", Version: "1", Operations: []service.Operation{{Name: "x", Method: "GET", Path: "/x"}}})
	var ae *service.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusUnprocessableEntity, ae.Status)
	require.NotEmpty(t, ae.RequestID)
	require.Contains(t, err.Error(), "422 Unprocessable Entity: the registration has 2 problems")
	require.Contains(t, err.Error(), "\n  /name: ")
	require.Contains(t, err.Error(), "\n  /version: ")

	_, err = c.Get(t.Context(), "nothing")
	require.True(t, service.IsNotFound(err), "%v", err)
	require.Contains(t, err.Error(), `reading the service nothing: 404 Not Found: no service is registered as "nothing"`)

	viewer, err := service.NewClient(service.ClientOptions{APIURL: b.api.URL, Token: token(t, "v", auth.RoleViewer)})
	require.NoError(t, err)
	_, err = viewer.Drain(t.Context(), "x", "y")
	require.ErrorContains(t, err, "403 Forbidden: services:manage requires the admin role")

	_, err = service.NewClient(service.ClientOptions{APIURL: "127.0.0.1:8080"})
	require.ErrorContains(t, err, `the API URL "127.0.0.1:8080" is not an http or https URL`)
}

// TestClientRoundTrip: every method against the real API.
func TestClientRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := service.NewClient(service.ClientOptions{APIURL: b.api.URL, Token: b.admin})
	require.NoError(t, err)
	ctx := t.Context()
	def := threatIntel()
	def.Instances = []service.Instance{{ID: "ti-1", Endpoint: "https://ti-1.example.com"}}
	out, created, err := c.Register(ctx, def)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "ti-1", out.Instances[0].ID)
	_, created, err = c.Register(ctx, def)
	require.NoError(t, err)
	require.False(t, created)

	in, err := c.RegisterInstance(ctx, "threat-intel", service.Instance{ID: "ti-2", Version: "1.2.0", Endpoint: "https://ti-2.example.com"})
	require.NoError(t, err)
	require.Equal(t, service.StatusHealthy, in.Status)
	_, err = c.Heartbeat(ctx, "threat-intel", "ti-1")
	require.NoError(t, err)
	in, err = c.Drain(ctx, "threat-intel", "ti-1")
	require.NoError(t, err)
	require.Equal(t, service.StatusDraining, in.Status)
	list, err := c.List(ctx, service.ListFilter{Capability: "ip.reputation"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Len(t, list[0].Instances, 2)
	list, err = c.List(ctx, service.ListFilter{Name: "other"})
	require.NoError(t, err)
	require.Empty(t, list)
	require.NoError(t, c.DeregisterInstance(ctx, "threat-intel", "ti-1"))
	versions, err := c.Get(ctx, "threat-intel")
	require.NoError(t, err)
	require.Len(t, versions[0].Instances, 1)

	events, err := c.History(ctx, "threat-intel", 0, 0)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(events), 4)
	require.Equal(t, int64(1), events[0].Sequence)
	require.Equal(t, "1.2.0 by admin-user", events[0].Summary())
	later, err := c.History(ctx, "threat-intel", 2, 1)
	require.NoError(t, err)
	require.Len(t, later, 1)
	require.Equal(t, int64(3), later[0].Sequence)

	require.NoError(t, c.Deregister(ctx, "threat-intel", "1.2.0"))
	require.True(t, service.IsNotFound(c.Deregister(ctx, "threat-intel", "")))
}
