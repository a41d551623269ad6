package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/examples/services/threatintel"
	"github.com/aiflow/aiflow/internal/registry"
)

// exampleInstanceID is the instance id the example services register
// under: a restarted aiflow dev updates its instance instead of adding
// one beside a dead one.
const exampleInstanceID = "aiflow-local"

// exampleService is one of examples/services: its registration and its
// handler.
type exampleService struct {
	service registry.Service
	handler http.Handler
}

// exampleServiceList returns the services of examples/services, each with
// a fresh handler (the incident desk keeps its incidents in memory).
func exampleServiceList() []exampleService {
	return []exampleService{
		{threatintel.Service(), threatintel.Handler()},
		{incidentdesk.Service(), incidentdesk.Handler()},
	}
}

// exampleServices serves the example services on loopback and keeps them
// registered with a registry as internal instances (loopback is a private
// address, which the egress guard allows only to internal instances),
// the way `aiflow dev` and `aiflow run` give the incident-enrichment
// example its services.
type exampleServices struct {
	reg     *registry.Registry
	caller  registry.Caller
	servers []*http.Server
	served  []string // the services' names, as servers
	names   []string // "name version"
	running sync.WaitGroup
	log     *slog.Logger
}

// exampleHealth says whether the example services are registered with
// their health checks.
type exampleHealth bool

const (
	// exampleServicesChecked registers them as they are: their instances
	// start as starting and take calls once a health checker passed them
	// (aiflow dev, which runs one).
	exampleServicesChecked exampleHealth = true
	// exampleServicesUnchecked registers them without their health checks,
	// healthy at once: aiflow run serves them in its own process and runs
	// no checker, so they are up exactly as long as the run is.
	exampleServicesUnchecked exampleHealth = false
)

// startExampleServices serves each example service on a free loopback
// port and registers it with reg as subject.
func startExampleServices(ctx context.Context, reg *registry.Registry, subject string, checked exampleHealth, logger *slog.Logger) (*exampleServices, error) {
	s := &exampleServices{reg: reg, caller: registry.Caller{Subject: subject, Admin: true}, log: logger}
	for _, ex := range exampleServiceList() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			_ = s.close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("serving the example service %s: %w", ex.service.Name, err)
		}
		srv := &http.Server{Handler: ex.handler, ReadHeaderTimeout: 10 * time.Second}
		s.servers = append(s.servers, srv)
		s.served = append(s.served, ex.service.Name)
		s.running.Go(func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("serving an example service", "service", ex.service.Name, "error", err)
			}
		})
		svc := ex.service
		if !checked {
			svc.HealthCheck = nil
		}
		svc.Instances = []registry.Instance{{ID: exampleInstanceID, Endpoint: "http://" + ln.Addr().String(), Internal: true, Zone: "local"}}
		if _, err := reg.RegisterService(ctx, s.caller, svc); err != nil {
			_ = s.close(context.WithoutCancel(ctx))
			return nil, fmt.Errorf("registering the example service %s: %w", svc.Name, err)
		}
		s.names = append(s.names, svc.Name+" "+svc.Version)
	}
	return s, nil
}

// close drains each instance (no new calls), stops its server once the
// calls it has are answered (or ctx ends), and deregisters it.
func (s *exampleServices) close(ctx context.Context) error {
	var errs []error
	for i, srv := range s.servers {
		name := s.served[i]
		if _, err := s.reg.Drain(ctx, s.caller, name, exampleInstanceID); err != nil && !errors.Is(err, registry.ErrNotFound) {
			errs = append(errs, fmt.Errorf("draining the example service %s: %w", name, err))
		}
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the example service %s: %w", name, err))
		}
		if err := s.reg.DeregisterInstance(ctx, s.caller, name, exampleInstanceID); err != nil && !errors.Is(err, registry.ErrNotFound) {
			errs = append(errs, fmt.Errorf("deregistering the example service %s: %w", name, err))
		}
	}
	s.running.Wait()
	return errors.Join(errs...)
}
