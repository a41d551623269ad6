package secretsapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/secrets"
	"github.com/aiflow/aiflow/internal/secretsapi"
)

// TestNoValueInLogsOrErrors drives every action, and its errors, with
// values that must never reach a log record or an error message.
func TestNoValueInLogsOrErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const v1, v2, v3 = "hunter2-first-value", "hunter2-second-value", "hunter2-refused-value"
	arn := b.create(t, "leak/check", v1)
	put, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(v2)})
	require.NoError(t, err)
	_, err = b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("leak/check")})
	require.NoError(t, err)
	_, err = b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("leak/check")})
	require.NoError(t, err)
	_, err = b.client.ListSecrets(b.ctx, &secretsmanager.ListSecretsInput{})
	require.NoError(t, err)

	var errs []error
	_, err = b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), ClientRequestToken: put.VersionId, SecretString: aws.String(v3)})
	errs = append(errs, err)
	_, err = b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak/check"), SecretString: aws.String(v3)})
	errs = append(errs, err)
	_, err = b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("leak/both"), SecretString: aws.String(v3), SecretBinary: []byte(v3)})
	errs = append(errs, err)
	_, err = b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String(strings.Repeat(v3, 5000))})
	errs = append(errs, err)
	status, _, body := post(t, b.srv.URL, http.MethodPost, "secretsmanager.PutSecretValue", "application/x-amz-json-1.1", `{"SecretId":"leak/check","SecretString":"`+v3+`",}`)
	require.Equal(t, http.StatusBadRequest, status)
	errs = append(errs, errors.New(body))

	for _, err := range errs {
		require.Error(t, err)
		require.NotContains(t, err.Error(), "hunter2")
	}
	logs := b.logs.String()
	require.Contains(t, logs, "action=PutSecretValue", "the requests were logged")
	require.Contains(t, logs, "secret=leak/check")
	require.NotContains(t, logs, "hunter2")
}

// failingStore fails every update, as a store on a full disk does.
type failingStore struct {
	secretsapi.Store
}

func (failingStore) Update(context.Context, secretsapi.Secret) error {
	return errors.New("disk full")
}

func TestInternalFailureIsLoggedNotAnswered(t *testing.T) {
	t.Parallel()
	b := setupWith(t, failingStore{Store: secretsapi.NewMemoryStore()})
	b.create(t, "aiflow/db", "hunter2-value")
	_, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db"), SecretString: aws.String("hunter2-new")},
		func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 })
	require.ErrorAs(t, err, new(*types.InternalServiceError))
	require.NotContains(t, err.Error(), "disk full", "the failure's text stays in the log")
	require.Contains(t, b.logs.String(), "disk full")
	require.NotContains(t, b.logs.String(), "hunter2")
}

// TestSecretsSourceEndToEnd reads through the project's own Secrets
// Manager source, as a function does with AWS_ENDPOINT_URL_SECRETS_MANAGER
// pointing here.
func TestSecretsSourceEndToEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created, err := b.svc.Ensure(b.ctx, []secretsapi.Declared{databaseSecret(t)})
	require.NoError(t, err)
	require.Len(t, created, 1)
	b.create(t, "aiflow/anthropic-api-key", "sk-ant-local")

	src := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{Prefix: "aiflow/"})
	key, err := src.Get(b.ctx, "anthropic-api-key")
	require.NoError(t, err)
	require.Equal(t, "sk-ant-local", key)
	user, err := src.Get(b.ctx, "database#username")
	require.NoError(t, err)
	require.Equal(t, "aiflow_admin", user)
	password, err := src.Get(b.ctx, "database#password")
	require.NoError(t, err)
	require.Len(t, password, 32)
	_, err = src.Get(b.ctx, "openai-api-key")
	require.ErrorIs(t, err, secrets.ErrNotFound)

	// By ARN, as a function given the secret's ARN in its environment
	// (!Ref of the secret) asks for it.
	desc, err := b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("aiflow/database")})
	require.NoError(t, err)
	byARN := secrets.NewSecretsManager(b.client, secrets.SecretsManagerOptions{})
	got, err := byARN.Get(b.ctx, *desc.ARN+"#password")
	require.NoError(t, err)
	require.Equal(t, password, got)
}
