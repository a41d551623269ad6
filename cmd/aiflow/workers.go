package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
	"github.com/aiflow/aiflow/internal/ai/openai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/metrics"
	"github.com/aiflow/aiflow/internal/metrics/stepmetrics"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/stepworker/serviceworker"
)

// workerTimeout is the deadline the in-process queues give a step worker,
// as a Lambda function's timeout would: Lambda's longest, so that a step's
// own timeout is what bounds it.
const workerTimeout = 15 * time.Minute

// aiProviders returns the model providers of in-process ai steps. With a
// script, the scripted provider answers every model, whatever provider
// its name starts with, so a workflow runs offline unchanged. Without
// one, each model goes to the provider its name starts with, with the
// keys and endpoints cfg read from the providers' standard variables
// (OPENAI_API_KEY, ANTHROPIC_API_KEY, AWS credentials, ...).
func aiProviders(ctx context.Context, script string, cfg config.LocalWorkers) (map[string]ai.Provider, error) {
	if script != "" {
		s, err := scripted.Load(script)
		if err != nil {
			return nil, fmt.Errorf("reading the script %s: %w", script, err)
		}
		p := scripted.New(s, scripted.Options{})
		return map[string]ai.Provider{"scripted": p, "anthropic": p, "openai": p, "bedrock": p}, nil
	}
	providers := map[string]ai.Provider{}
	if cfg.Anthropic.APIKey != "" {
		providers["anthropic"] = anthropic.New(anthropic.Options{APIKey: cfg.Anthropic.APIKey.Reveal(), BaseURL: cfg.Anthropic.BaseURL})
	} else {
		providers["anthropic"] = unconfigured{"anthropic", "ANTHROPIC_API_KEY is not set"}
	}
	if cfg.OpenAI.APIKey != "" {
		providers["openai"] = openai.New(openai.Options{APIKey: cfg.OpenAI.APIKey.Reveal(), BaseURL: cfg.OpenAI.BaseURL})
	} else {
		providers["openai"] = unconfigured{"openai", "OPENAI_API_KEY is not set"}
	}
	if cfg.AWS {
		br, err := bedrock.New(ctx, bedrock.Options{})
		if err != nil {
			return nil, fmt.Errorf("making the bedrock provider: %w", err)
		}
		providers["bedrock"] = br
	} else {
		providers["bedrock"] = unconfigured{"bedrock", "no AWS region is set (AWS_REGION or AWS_PROFILE)"}
	}
	return providers, nil
}

// unconfigured is a provider whose credentials are missing: every call
// fails at once with AI.Auth, saying what to set, rather than going to the
// network without them.
type unconfigured struct{ name, why string }

func (u unconfigured) Name() string { return u.name }

func (u unconfigured) Generate(context.Context, ai.Request) (ai.Response, error) {
	return ai.Response{}, &ai.Error{Code: ai.CodeAuth, Provider: u.name,
		Message: u.why + "; set it, or answer the models from a script with --script FILE"}
}

func (u unconfigured) Stream(ctx context.Context, req ai.Request, _ func(ai.Delta) error) (ai.Response, error) {
	return u.Generate(ctx, req)
}

// localWorkers are the step workers that run in process, as the Lambda
// step workers do on AWS: the same runtime and handlers.
type localWorkers struct {
	runtime *steps.Runtime
	kinds   map[string]bool // the step kinds the runtime handles
	mcp     *mcpclient.Pool // nil without MCP servers
}

// close ends the MCP sessions.
func (w *localWorkers) close() {
	if w.mcp != nil {
		_ = w.mcp.Close()
	}
}

// localWorkersParams are what newLocalWorkers builds the workers from.
type localWorkersParams struct {
	// Callbacks are the engine's.
	Callbacks sfn.Callbacks
	// Script answers every model when set (see aiProviders).
	Script string
	// Config is the workers' settings from the environment.
	Config config.LocalWorkers
	// Secrets answers the secrets the MCP servers name.
	Secrets mcpclient.SecretSource
	// Broker streams the models' tokens; nil streams none.
	Broker *steps.Broker
	// Details records detail events; nil records none.
	Details steps.DetailRecorder
	// InProcess are MCP servers served in this process, by name.
	InProcess map[string]mcpclient.InProcessServer
	// Registry, when set, routes service steps (how, by Config.Service);
	// without one the runtime runs no service steps.
	Registry serviceworker.Registry
	// Metrics, if set, counts the steps, their model, MCP and service
	// calls (which Details must then count: see stepmetrics.Details) and
	// the circuit breakers.
	Metrics *metrics.Recorder
	Logger  *slog.Logger
	// Blobs keeps the results of large steps over Config.BlobThreshold;
	// nil keeps none.
	Blobs blob.Store
}

// mcpPool opens the MCP client pool of in-process workers: the servers of
// AIFLOW_MCP_CONFIG and AIFLOW_MCP_SERVERS, and in-process ones; nil when
// there are none.
func mcpPool(p localWorkersParams) (*mcpclient.Pool, error) {
	if len(p.Config.MCP.Servers) == 0 && len(p.InProcess) == 0 {
		return nil, nil
	}
	var observer mcpclient.Observer
	if p.Metrics != nil {
		observer = &stepmetrics.MCPObserver{Recorder: p.Metrics}
	}
	return mcpclient.New(mcpclient.Options{Config: p.Config.MCP, InProcess: p.InProcess, Secrets: p.Secrets, Observer: observer, Logger: p.Logger})
}

// newLocalWorkers builds the step runtime of `aiflow run` and `aiflow dev`
// over the engine's callbacks: ai steps with the providers of p.Script
// (see aiProviders), mcp steps and agent tools over the MCP servers,
// service steps over p.Registry.
func newLocalWorkers(ctx context.Context, p localWorkersParams) (*localWorkers, error) {
	providers, err := aiProviders(ctx, p.Script, p.Config)
	if err != nil {
		return nil, err
	}
	pool, err := mcpPool(p)
	if err != nil {
		return nil, err
	}
	logger := p.Logger
	aiCfg := steps.AIConfig{
		Providers: providers,
		Retrier:   ai.Retrier{MaxAttempts: 3},
		Broker:    p.Broker,
		Details:   p.Details,
		Logger:    logger,
	}
	handlers := map[string]steps.Handler{}
	if pool != nil {
		handlers["mcp"] = steps.NewMCP(steps.MCPConfig{Pool: pool, Details: p.Details, Logger: logger})
		aiCfg.Tools = &steps.MCPTools{Pool: pool, Logger: logger}
	}
	handlers["ai"] = steps.NewAI(aiCfg)
	if p.Registry != nil {
		svc, err := serviceworker.NewHandler(serviceworker.Params{
			Config: config.ServiceStep{ServiceCalls: p.Config.Service}, Registry: p.Registry,
			Secrets: p.Secrets, Details: p.Details, Logger: logger,
			OnBreakerFunc: stepmetrics.ServiceBreakers(p.Metrics),
		})
		if err != nil {
			if pool != nil {
				_ = pool.Close()
			}
			return nil, err
		}
		handlers["service"] = svc
	}
	if p.Metrics != nil {
		handlers = stepmetrics.Handlers(handlers, p.Metrics, nil)
	}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: p.Callbacks, Handlers: handlers, Logger: logger,
		Blobs: p.Blobs, BlobThreshold: p.Config.BlobThreshold})
	if err != nil {
		if pool != nil {
			_ = pool.Close()
		}
		return nil, err
	}
	kinds := map[string]bool{}
	for k := range handlers {
		kinds[k] = true
	}
	return &localWorkers{runtime: rt, kinds: kinds, mcp: pool}, nil
}
