// Package serviceworker builds the service step worker of
// functions/servicestep and `aiflow invoke servicestep` from its
// configuration (config.ServiceStep): the service registry read from the
// database (internal/registrystore over the worker's event store), the
// router over it (refreshed every AIFLOW_SERVICE_REFRESH; a breaker that
// opens ejects its instance through the registry), the egress guard the
// calls go through, the Lambda client of function instances, and the
// secrets services authenticate with (AIFLOW_SERVICE_SECRETS), over the
// runtime package stepworker makes. It links no model SDK.
package serviceworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aiflow/aiflow/internal/awslambda"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/metrics/stepmetrics"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/router"
	"github.com/aiflow/aiflow/internal/registrystore"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/stepworker"
)

// ejectTimeout bounds the registry write of one ejection, which runs on
// the goroutine of the failed call.
const ejectTimeout = 5 * time.Second

// New builds the service step worker: the registry on the database of
// cfg.Step (required), the router, the egress guard with cfg.Egress's
// caps, the Lambda client when cfg.AWSRegion is set, and callbacks to
// AIFLOW_SFN_ENDPOINT or AWS. It returns the errors of making the clients.
func New(ctx context.Context, cfg config.ServiceStep, o stepworker.Options) (*stepworker.Worker, error) {
	w, err := stepworker.New(ctx, stepworker.Params{Step: cfg.Step, Secrets: cfg.Secrets, Options: o, Actor: "servicestep"})
	if err != nil {
		return nil, err
	}
	if w.Events == nil {
		w.Close()
		return nil, errors.New("making the service step worker: it reads the service registry from the database, and none is configured (DATABASE_URL)")
	}
	reg, err := registry.New(registry.Config{Store: registrystore.New(w.Events), Logger: w.Logger})
	if err != nil {
		w.Close()
		return nil, err
	}
	var functions sfn.FunctionInvoker
	if cfg.AWSRegion != "" {
		client, err := awslambda.NewClient(ctx, "", cfg.AWSRegion)
		if err != nil {
			w.Close()
			return nil, err
		}
		functions = awslambda.New(client)
	}
	h, err := NewHandler(Params{
		Config: cfg, Registry: reg, Functions: functions, Secrets: w.Secrets, Details: w.Details, Logger: w.Logger,
		OnBreakerFunc: stepmetrics.ServiceBreakers(w.Metrics),
	})
	if err != nil {
		w.Close()
		return nil, err
	}
	return w.Finish(ctx, map[string]steps.Handler{"service": h})
}

// Registry is what the worker needs of the registry: to list the
// services and to eject an instance whose breaker opened.
// *registry.Registry is it.
type Registry interface {
	router.Source
	Eject(ctx context.Context, service, instanceID, reason string, d time.Duration) (registry.Instance, error)
}

// Params are what NewHandler builds the handler from.
type Params struct {
	// Config is the worker's configuration.
	Config config.ServiceStep
	// Registry lists the services and takes ejections. Required.
	Registry Registry
	// Functions invokes Lambda instances; nil fails calls to them.
	Functions sfn.FunctionInvoker
	// Secrets reads the services' auth secrets.
	Secrets steps.SecretSource
	// Details records ServiceCalled events; nil records none.
	Details steps.DetailRecorder
	// Logger receives ejections that could not be recorded.
	Logger *slog.Logger
	// OnBreakerFunc, if set, hears the router's breakers open and close
	// (router.Config.OnBreakerFunc): the metrics count them.
	OnBreakerFunc func(router.BreakerChange)
}

// NewHandler builds the service step handler from p, with the router and
// the egress guard cfg describes: what New runs, and what `aiflow dev`
// wires to its in-process registry.
func NewHandler(p Params) (*steps.Service, error) {
	if p.Registry == nil {
		return nil, errors.New("making the service step handler: no registry")
	}
	log := p.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := p.Config
	rt, err := router.New(router.Config{
		Source: p.Registry, Refresh: c.Refresh, FailureThreshold: c.BreakerFailures, CoolDown: c.BreakerCoolDown, Logger: log,
		OnBreakerFunc: p.OnBreakerFunc,
		OnEjectFunc: func(ctx context.Context, e router.Ejection) {
			ctx, cancel := context.WithTimeout(ctx, ejectTimeout)
			defer cancel()
			if _, err := p.Registry.Eject(ctx, e.Service, e.InstanceID, e.Reason, e.For); err != nil {
				log.Warn("ejecting a service instance whose circuit opened", "service", e.Service, "version", e.Version, "instance", e.InstanceID, "error", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("making the service step handler: %w", err)
	}
	guard := egress.New(egress.Config{MaxResponseBytes: c.Egress.MaxResponseBytes, Timeout: c.Egress.Timeout, Logger: log})
	return steps.NewService(steps.ServiceConfig{
		Router: rt, Clients: guard, Functions: p.Functions, Secrets: p.Secrets, Details: p.Details,
		MaxAttempts: c.MaxAttempts, MaxResponseBytes: c.Egress.MaxResponseBytes, Logger: log,
	}), nil
}
