package aiworker

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/secrets"
)

func lookupOf(vars map[string]string) config.LookupFunc {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

// fakeSource is a secrets.Source with GetFunc.
type fakeSource struct {
	GetFunc func(ctx context.Context, name string) (string, error)
}

func (f fakeSource) Get(ctx context.Context, name string) (string, error) {
	return f.GetFunc(ctx, name)
}

// TestProviderKeys: with AIFLOW_AI_SECRETS=secretsmanager a provider's key
// is the secret its variable names (or the default name); with env it is
// the provider's own variable, empty when unset (the provider then reads its own).
func TestProviderKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := fakeSource{GetFunc: func(_ context.Context, name string) (string, error) {
		switch name {
		case "arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic":
			return "sk-ant-from-secret", nil
		case "openai-api-key":
			return "sk-openai-default", nil
		}
		return "", secrets.ErrNotFound
	}}
	load := func(vars map[string]string) config.AIStep {
		t.Helper()
		cfg, err := config.LoadAIStep(lookupOf(vars))
		require.NoError(t, err)
		return cfg
	}
	sm := load(map[string]string{"AIFLOW_AI_SECRETS": "secretsmanager", "AIFLOW_ANTHROPIC_KEY_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:anthropic", "OPENAI_API_KEY": "sk-ignored"})
	key, err := providerKey(ctx, sm.Secrets, src, "anthropic", sm.Anthropic)
	require.NoError(t, err)
	require.Equal(t, "sk-ant-from-secret", key)
	key, err = providerKey(ctx, sm.Secrets, src, "openai", sm.OpenAI)
	require.NoError(t, err)
	require.Equal(t, "sk-openai-default", key)

	missing := load(map[string]string{"AIFLOW_AI_SECRETS": "secretsmanager", "AIFLOW_OPENAI_KEY_SECRET": "nope"})
	_, err = providerKey(ctx, missing.Secrets, src, "openai", missing.OpenAI)
	require.True(t, errors.Is(err, secrets.ErrNotFound))
	require.ErrorContains(t, err, "AIFLOW_OPENAI_KEY_SECRET")

	unset := load(nil)
	key, err = providerKey(ctx, unset.Secrets, src, "openai", unset.OpenAI)
	require.NoError(t, err)
	require.Empty(t, key, "with env and no OPENAI_API_KEY, the provider reads its own variable")

	env := load(map[string]string{"OPENAI_API_KEY": "sk-from-env"})
	key, err = providerKey(ctx, env.Secrets, src, "openai", env.OpenAI)
	require.NoError(t, err)
	require.Equal(t, "sk-from-env", key)
}
