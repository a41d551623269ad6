// Package aiworker builds the ai step worker of functions/aistep and
// `aiflow invoke aistep` from its configuration (config.AIStep): the model
// providers of AIFLOW_AI_PROVIDERS with their keys and base URLs, the
// prices and budgets, and the tools of agent steps, over the runtime
// package stepworker makes. It is the only worker wiring that links the
// model SDKs. Agent steps call their tools on the MCP servers the mcp step
// worker reads (AIFLOW_MCP_CONFIG, AIFLOW_MCP_SERVERS, AIFLOW_MCP_SECRETS,
// AIFLOW_MCP_PINS), through the pool stepworker.Worker.MCPPool opens, so
// this package makes no MCP client of its own; with no server configured,
// a step with tools fails with AI.ToolUnavailable.
package aiworker

import (
	"context"
	"fmt"

	"github.com/aiflow/aiflow/internal/ai"
	"github.com/aiflow/aiflow/internal/ai/anthropic"
	"github.com/aiflow/aiflow/internal/ai/bedrock"
	"github.com/aiflow/aiflow/internal/ai/openai"
	"github.com/aiflow/aiflow/internal/ai/scripted"
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/stepworker"
)

// New builds the ai step worker: the providers of cfg.Providers, with
// keys from their own variables or, with AIFLOW_AI_SECRETS=secretsmanager,
// from Secrets Manager (read once per cold start, through a cache); the
// agents' tools on the MCP servers of cfg.Tools (sessions opened on first
// use, kept across invocations); callbacks to AIFLOW_SFN_ENDPOINT or AWS.
// It returns the errors of reading the keys and making the clients.
func New(ctx context.Context, cfg config.AIStep, o stepworker.Options) (*stepworker.Worker, error) {
	w, err := stepworker.New(ctx, stepworker.Params{Step: cfg.Step, Secrets: cfg.Secrets, Options: o, Actor: "aistep"})
	if err != nil {
		return nil, err
	}
	providers := map[string]ai.Provider{}
	for _, name := range cfg.Providers {
		providers[name], err = provider(ctx, cfg, w.Secrets, name)
		if err != nil {
			w.Close()
			return nil, err
		}
	}
	// With the scripted provider on, it answers the models of the providers
	// that are not (anthropic/..., openai/..., bedrock/...), as it does in
	// `aiflow dev` with a script: a workflow runs offline unchanged.
	if p, ok := providers[config.AIProviderScripted]; ok {
		for _, name := range []string{config.AIProviderAnthropic, config.AIProviderOpenAI, config.AIProviderBedrock} {
			if _, set := providers[name]; !set {
				providers[name] = p
			}
		}
	}
	prices := steps.PriceTable{}
	for model, p := range cfg.Prices {
		prices[model] = steps.Price{InputPerMillion: p.InputPerMillion, OutputPerMillion: p.OutputPerMillion}
	}
	if cfg.Prices == nil {
		prices = nil
	}
	aiCfg := steps.AIConfig{
		Providers:            providers,
		DefaultProvider:      cfg.DefaultProvider,
		Retrier:              ai.Retrier{MaxAttempts: cfg.MaxAttempts},
		Prices:               prices,
		StepTokenBudget:      cfg.StepTokenBudget,
		ExecutionTokenBudget: cfg.ExecutionTokenBudget,
		Details:              w.Details,
		Logger:               w.Logger,
	}
	if len(cfg.Tools.MCP.Servers) > 0 {
		pool, err := w.MCPPool(ctx, cfg.Tools, "aiflow-aistep")
		if err != nil {
			w.Close()
			return nil, err
		}
		aiCfg.Tools = &steps.MCPTools{Pool: pool, Logger: w.Logger}
	}
	return w.Finish(ctx, map[string]steps.Handler{"ai": steps.NewAI(aiCfg)})
}

// providerKey returns a provider's key: with AIFLOW_AI_SECRETS=env (the
// default) the one of its own variable (ANTHROPIC_API_KEY, OPENAI_API_KEY;
// empty leaves it to the provider, which reads its own variable), with secretsmanager the secret api.KeySecret
// names (an ARN or a name).
func providerKey(ctx context.Context, store config.SecretStore, src secrets.Source, name string, api config.ModelAPI) (string, error) {
	if store != config.SecretsManager {
		return api.APIKey.Reveal(), nil
	}
	key, err := src.Get(ctx, api.KeySecret)
	if err != nil {
		return "", fmt.Errorf("reading the %s key from Secrets Manager (%s): %w", name, api.KeySecretVar, err)
	}
	return key, nil
}

// provider builds one model provider.
func provider(ctx context.Context, cfg config.AIStep, src secrets.Source, name string) (ai.Provider, error) {
	switch name {
	case config.AIProviderScripted:
		s, err := scripted.Load(cfg.ScriptFile)
		if err != nil {
			return nil, fmt.Errorf("AIFLOW_AI_SCRIPT: %w", err)
		}
		return scripted.New(s, scripted.Options{}), nil
	case config.AIProviderAnthropic:
		key, err := providerKey(ctx, cfg.Secrets, src, name, cfg.Anthropic)
		if err != nil {
			return nil, err
		}
		return anthropic.New(anthropic.Options{APIKey: key, BaseURL: cfg.Anthropic.BaseURL}), nil
	case config.AIProviderOpenAI:
		key, err := providerKey(ctx, cfg.Secrets, src, name, cfg.OpenAI)
		if err != nil {
			return nil, err
		}
		return openai.New(openai.Options{APIKey: key, BaseURL: cfg.OpenAI.BaseURL}), nil
	case config.AIProviderBedrock:
		p, err := bedrock.New(ctx, bedrock.Options{})
		if err != nil {
			return nil, fmt.Errorf("making the bedrock provider: %w", err)
		}
		return p, nil
	}
	// config.LoadAIStep accepts only config.AIStepProviders.
	return nil, fmt.Errorf("AIFLOW_AI_PROVIDERS: unknown provider %q", name)
}
