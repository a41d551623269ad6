package secretsapi_test

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/clock/clocktest"
	"github.com/aiflow/aiflow/internal/secretsapi"
)

// testBundle is a Service served over loopback HTTP, and an SDK client
// that talks to it.
type testBundle struct {
	ctx    context.Context
	store  secretsapi.Store
	svc    *secretsapi.Service
	srv    *httptest.Server
	client *secretsmanager.Client
	clock  *clocktest.Manual
	logs   *awsjsontest.Buffer
}

// lockedReader makes a deterministic source safe for the handler's
// goroutines.
type lockedReader struct {
	mu sync.Mutex
	r  *rand.ChaCha8
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

func newRand(seed byte) *lockedReader {
	return &lockedReader{r: rand.NewChaCha8([32]byte{seed})}
}

// start is the time of the bundle's clock.
var start = time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupWith(t, secretsapi.NewMemoryStore())
}

func setupWith(t *testing.T, store secretsapi.Store) *testBundle {
	t.Helper()
	b := &testBundle{ctx: t.Context(), store: store, clock: clocktest.NewManual(start), logs: &awsjsontest.Buffer{}}
	b.svc = secretsapi.New(store, secretsapi.Options{
		Rand:    newRand(1),
		NowFunc: b.clock.Now,
		Logger:  slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	b.srv = httptest.NewServer(b.svc)
	t.Cleanup(b.srv.Close)
	b.client = newClient(b.srv.URL)
	return b
}

// newClient is the SDK's Secrets Manager client at endpoint, as a
// function reaching the stack through AWS_ENDPOINT_URL_SECRETS_MANAGER
// would make it.
func newClient(endpoint string) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""),
		BaseEndpoint: aws.String(endpoint),
	})
}

// create makes a secret through the API and returns its ARN.
func (b *testBundle) create(t *testing.T, name, value string) string {
	t.Helper()
	out, err := b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
	require.NoError(t, err, name)
	return *out.ARN
}
