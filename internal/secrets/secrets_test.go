package secrets_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/secrets"
)

// runSourceSuite is the conformance suite of the port: every adapter, given
// the secrets newSource stores, must answer them and report the others as
// not found.
func runSourceSuite(t *testing.T, newSource func(t *testing.T, stored map[string]string) secrets.Source) {
	t.Helper()
	stored := map[string]string{
		"anthropic-api-key": "sk-ant-api03-example",
		"openai-api-key":    "sk-proj-example",
	}

	t.Run("Found", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, stored)
		for name, want := range stored {
			got, err := src.Get(context.Background(), name)
			require.NoError(t, err, name)
			require.Equal(t, want, got, name)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, stored)
		_, err := src.Get(context.Background(), "bedrock-api-key")
		require.ErrorIs(t, err, secrets.ErrNotFound)
		require.Contains(t, err.Error(), "bedrock-api-key")
	})

	t.Run("AgainAfterNotFound", func(t *testing.T) {
		t.Parallel()
		src := newSource(t, stored)
		_, err := src.Get(context.Background(), "missing-key")
		require.ErrorIs(t, err, secrets.ErrNotFound)
		got, err := src.Get(context.Background(), "openai-api-key")
		require.NoError(t, err)
		require.Equal(t, "sk-proj-example", got)
	})
}

func TestEnvConformance(t *testing.T) {
	t.Parallel()
	runSourceSuite(t, func(t *testing.T, stored map[string]string) secrets.Source {
		env := map[string]string{}
		for name, value := range stored {
			env["AIFLOW_"+secrets.EnvName(name)] = value
		}
		return secrets.Env{Prefix: "AIFLOW_", LookupEnvFunc: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		}}
	})
}

func TestSecretsManagerConformance(t *testing.T) {
	t.Parallel()
	runSourceSuite(t, func(t *testing.T, stored map[string]string) secrets.Source {
		b := setup(t, stored)
		return b.source
	})
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"anthropic-api-key":   "ANTHROPIC_API_KEY",
		"anthropic/api_key":   "ANTHROPIC_API_KEY",
		"OPENAI_API_KEY":      "OPENAI_API_KEY",
		"db.password2":        "DB_PASSWORD2",
		"clé":                 "CL_",
		"aiflow/prod/openai!": "AIFLOW_PROD_OPENAI_",
	} {
		require.Equal(t, want, secrets.EnvName(name), name)
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	env := secrets.Env{LookupEnvFunc: func(k string) (string, bool) {
		switch k {
		case "EMPTY_KEY":
			return "", true
		case "SET_KEY":
			return "value", true
		}
		return "", false
	}}
	got, err := env.Get(context.Background(), "set-key")
	require.NoError(t, err)
	require.Equal(t, "value", got)

	_, err = env.Get(context.Background(), "empty-key")
	require.ErrorIs(t, err, secrets.ErrNotFound, "an empty variable holds no secret")
	var nf *secrets.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "empty-key", nf.Name)
	require.Contains(t, err.Error(), "EMPTY_KEY")
}

// TestEnvProcess cannot run in parallel: it sets a variable of the process.
func TestEnvProcess(t *testing.T) {
	t.Setenv("AIFLOW_TEST_SECRET", "from-the-process")
	got, err := secrets.Env{Prefix: "AIFLOW_"}.Get(context.Background(), "test-secret")
	require.NoError(t, err)
	require.Equal(t, "from-the-process", got)
}

// fakeSecretsManager is an httptest server speaking Secrets Manager's AWS
// JSON 1.1 protocol for GetSecretValue: POST / with X-Amz-Target
// secretsmanager.GetSecretValue and {"SecretId": ...}.
type fakeSecretsManager struct {
	mu       sync.Mutex
	secrets  map[string]any // string: SecretString; []byte: SecretBinary
	calls    []string       // the SecretId of every call
	failWith string         // an error code every call fails with, if set
}

func (f *fakeSecretsManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionStage string `json:"VersionStage"`
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" ||
		r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" ||
		r.Header.Get("Content-Type") != "application/x-amz-json-1.1" ||
		json.Unmarshal(raw, &in) != nil {
		awsError(w, http.StatusBadRequest, "InvalidRequestException", "You provided a parameter value that is not valid for the current state of the resource.")
		return
	}
	f.mu.Lock()
	f.calls = append(f.calls, in.SecretID)
	value, ok := f.secrets[in.SecretID]
	failWith := f.failWith
	f.mu.Unlock()
	if failWith != "" {
		awsError(w, http.StatusBadRequest, failWith, "User: arn:aws:sts::123456789012:assumed-role/aistep/fn is not authorized to perform: secretsmanager:GetSecretValue")
		return
	}
	if !ok {
		awsError(w, http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	out := map[string]any{
		"ARN":           "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretID + "-a1b2c3",
		"Name":          in.SecretID,
		"CreatedDate":   1.523477145713e9,
		"VersionId":     "EXAMPLE1-90ab-cdef-fedc-ba987SECRET1",
		"VersionStages": []string{"AWSCURRENT"},
	}
	switch v := value.(type) {
	case string:
		out["SecretString"] = v
	case []byte:
		out["SecretBinary"] = base64.StdEncoding.EncodeToString(v)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeSecretsManager) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// awsError answers with the AWS JSON 1.1 error shape.
func awsError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": message})
}

type testBundle struct {
	fake   *fakeSecretsManager
	clock  *clocktest.Manual
	client *secretsmanager.Client
	source *secrets.SecretsManager
}

func setup(t *testing.T, stored map[string]string) *testBundle {
	t.Helper()
	f := &fakeSecretsManager{secrets: map[string]any{}}
	for k, v := range stored {
		f.secrets[k] = v
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	c := clocktest.NewManual(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	return &testBundle{
		fake:   f,
		clock:  c,
		client: client,
		source: secrets.NewSecretsManager(client, secrets.SecretsManagerOptions{TTL: time.Minute, NowFunc: c.Now}),
	}
}

func TestSecretsManagerCache(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"openai-api-key": "sk-proj-first"})
	ctx := context.Background()

	for range 3 {
		got, err := b.source.Get(ctx, "openai-api-key")
		require.NoError(t, err)
		require.Equal(t, "sk-proj-first", got)
	}
	require.Equal(t, 1, b.fake.callCount(), "served from the cache within the TTL")

	// The key is rotated; the cache serves the old one until the TTL ends.
	b.fake.mu.Lock()
	b.fake.secrets["openai-api-key"] = "sk-proj-rotated"
	b.fake.mu.Unlock()
	b.clock.Advance(59 * time.Second)
	got, err := b.source.Get(ctx, "openai-api-key")
	require.NoError(t, err)
	require.Equal(t, "sk-proj-first", got)
	require.Equal(t, 1, b.fake.callCount())

	b.clock.Advance(time.Second)
	got, err = b.source.Get(ctx, "openai-api-key")
	require.NoError(t, err)
	require.Equal(t, "sk-proj-rotated", got)
	require.Equal(t, 2, b.fake.callCount(), "fetched again once the TTL is over")
}

func TestSecretsManagerNotFoundIsNotCached(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	_, err := b.source.Get(ctx, "anthropic-api-key")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	var nf *secrets.NotFoundError
	require.ErrorAs(t, err, &nf)
	require.Contains(t, nf.Where, "Secrets Manager")

	b.fake.mu.Lock()
	b.fake.secrets["anthropic-api-key"] = "sk-ant-created"
	b.fake.mu.Unlock()
	got, err := b.source.Get(ctx, "anthropic-api-key")
	require.NoError(t, err)
	require.Equal(t, "sk-ant-created", got)
	require.Equal(t, 2, b.fake.callCount())
}

func TestSecretsManagerPrefixAndJSONKey(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{
		"aiflow/providers": `{"anthropic":"sk-ant-in-json","openai":"sk-proj-in-json","port":8080}`,
		"aiflow/plain":     "not json",
	})
	src := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{Prefix: "aiflow/", NowFunc: b.clock.Now})
	ctx := context.Background()

	got, err := src.Get(ctx, "providers#anthropic")
	require.NoError(t, err)
	require.Equal(t, "sk-ant-in-json", got)
	got, err = src.Get(ctx, "providers#openai")
	require.NoError(t, err)
	require.Equal(t, "sk-proj-in-json", got)
	require.Equal(t, []string{"aiflow/providers"}, b.fake.calls, "one secret, fetched once, serves all its keys")

	_, err = src.Get(ctx, "providers#bedrock")
	require.ErrorIs(t, err, secrets.ErrNotFound)
	require.Contains(t, err.Error(), `"bedrock"`)

	_, err = src.Get(ctx, "providers#port")
	require.Error(t, err)
	require.NotErrorIs(t, err, secrets.ErrNotFound)
	require.NotContains(t, err.Error(), "8080")

	_, err = src.Get(ctx, "plain#key")
	require.Error(t, err)
	require.NotErrorIs(t, err, secrets.ErrNotFound)
	require.NotContains(t, err.Error(), "not json", "an error never shows the secret")
}

func TestSecretsManagerBinary(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.fake.secrets["binary-key"] = []byte("sk-binary")
	got, err := b.source.Get(context.Background(), "binary-key")
	require.NoError(t, err)
	require.Equal(t, "sk-binary", got)
}

func TestSecretsManagerErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"openai-api-key": "sk-proj-first"})
	b.fake.failWith = "AccessDeniedException"
	_, err := b.source.Get(context.Background(), "openai-api-key")
	require.Error(t, err)
	require.NotErrorIs(t, err, secrets.ErrNotFound)
	require.Contains(t, err.Error(), `getting secret "openai-api-key" from Secrets Manager: AccessDeniedException`)

	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}, func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	_, err = secrets.NewSecretsManager(client, secrets.SecretsManagerOptions{}).Get(context.Background(), "openai-api-key")
	require.Error(t, err)
	require.NotErrorIs(t, err, secrets.ErrNotFound)
	require.Contains(t, err.Error(), `getting secret "openai-api-key" from Secrets Manager`)
}

func TestSecretsManagerCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"openai-api-key": "sk-proj-first"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.source.Get(ctx, "openai-api-key")
	require.True(t, errors.Is(err, context.Canceled), "error: %v", err)
}

func TestSecretsManagerConcurrent(t *testing.T) {
	t.Parallel()
	stored := map[string]string{"openai-api-key": "sk-proj-first", "anthropic-api-key": "sk-ant-first"}
	b := setup(t, stored)
	names := []string{"openai-api-key", "anthropic-api-key"}
	got := make([]string, 16)
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() { got[i], errs[i] = b.source.Get(context.Background(), names[i%2]) })
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		require.Equal(t, stored[names[i%2]], got[i])
	}
	calls := b.fake.callCount()
	for _, name := range names {
		_, err := b.source.Get(context.Background(), name)
		require.NoError(t, err)
	}
	require.Equal(t, calls, b.fake.callCount(), "both values are cached")
}
