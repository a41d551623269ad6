package service_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/httpapi"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/service"
)

// A service's own token registers its version with an instance, beats and
// drains, but manages no other service and reads nothing; a viewer reads
// the history. aiflow's API runs in process here.
func ExampleClient() {
	key := []byte("a development key of 32 bytes...")
	reg, _ := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	verifier, _ := auth.NewVerifier(auth.VerifierOptions{Issuer: auth.DevIssuer, Audience: []string{auth.DevAudience}, HMACKey: key})
	api := httptest.NewServer(httpapi.New(httpapi.Options{Authenticator: verifier, Registry: reg}))
	defer api.Close()
	token, _ := auth.MintDevToken(key, auth.ServiceSubject("threat-intel"), []auth.Role{auth.RoleService}, time.Hour)

	ctx := context.Background()
	c, err := service.NewClient(service.ClientOptions{APIURL: api.URL, Token: token})
	if err != nil {
		panic(err)
	}
	def := service.Definition{
		Name: "threat-intel", Version: "1.2.0", Capabilities: []string{"ip.reputation"},
		Operations: []service.Operation{{Name: "reputation", Method: "GET", Path: "/v1/ip/{ip}/reputation"}},
		Instances:  []service.Instance{{ID: "ti-1", Endpoint: "https://ti-1.example.com"}},
	}
	out, created, err := c.Register(ctx, def)
	if err != nil {
		panic(err)
	}
	fmt.Println("registered:", out.Name, out.Version, created, out.Instances[0].ID, out.Instances[0].Status)
	if _, err := c.Heartbeat(ctx, "threat-intel", "ti-1"); err != nil {
		panic(err)
	}
	in, err := c.Drain(ctx, "threat-intel", "ti-1")
	if err != nil {
		panic(err)
	}
	fmt.Println("drained:", in.ID, in.Status)
	_, _, err = c.Register(ctx, service.Definition{Name: "incident-desk", Version: "1.0.0"})
	fmt.Println("another service:", err)
	viewerToken, _ := auth.MintDevToken(key, "vera", []auth.Role{auth.RoleViewer}, time.Hour)
	viewer, _ := service.NewClient(service.ClientOptions{APIURL: api.URL, Token: viewerToken})
	_, err = c.History(ctx, "threat-intel", 0, 0)
	fmt.Println("reading:", err)
	events, err := viewer.History(ctx, "threat-intel", 0, 0)
	if err != nil {
		panic(err)
	}
	for _, e := range events {
		fmt.Println(e.Sequence, e.Type, e.Summary())
	}
	// Output:
	// registered: threat-intel 1.2.0 true ti-1 healthy
	// drained: ti-1 draining
	// another service: registering the service incident-desk 1.0.0: 403 Forbidden: registering service incident-desk: service:threat-intel may not manage service "incident-desk"
	// reading: reading the history of threat-intel: 403 Forbidden: services:read requires the viewer role or a higher one; the caller has the roles service
	// 1 ServiceRegistered 1.2.0 by service:threat-intel
	// 2 InstanceRegistered 1.2.0 instance ti-1 healthy (registered) by service:threat-intel
	// 3 InstanceDraining 1.2.0 instance ti-1 healthy -> draining (draining) by service:threat-intel
}
