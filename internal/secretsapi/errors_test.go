package secretsapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/secretsapi"
)

// TestTypedErrors checks that the SDK decodes every error into its typed
// error, with a message that names what was wrong.
func TestTypedErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.create(t, "aiflow/db", "pw-1")
	token := "22222222-2222-3333-4444-555555555555"
	_, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db"), ClientRequestToken: aws.String(token), SecretString: aws.String("pw-2")})
	require.NoError(t, err)

	type call func(ctx context.Context, c *secretsmanager.Client) error
	get := func(in *secretsmanager.GetSecretValueInput) call {
		return func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.GetSecretValue(ctx, in)
			return err
		}
	}
	for _, tc := range []struct {
		name    string
		call    call
		target  any
		message string
	}{
		{"GetMissing", get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("missing")}),
			new(*types.ResourceNotFoundException), `can't find the specified secret "missing"`},
		{"GetARNWithOtherSuffix", get(&secretsmanager.GetSecretValueInput{SecretId: aws.String(arn[:len(arn)-6] + "zzzzzz")}),
			new(*types.ResourceNotFoundException), "can't find"},
		{"GetARNOfOtherAccount", get(&secretsmanager.GetSecretValueInput{SecretId: aws.String(strings.Replace(arn, "123456789012", "210987654321", 1))}),
			new(*types.ResourceNotFoundException), "can't find"},
		{"GetMissingStage", get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/db"), VersionStage: aws.String("AWSPENDING")}),
			new(*types.ResourceNotFoundException), "staging label: AWSPENDING"},
		{"GetMissingVersion", get(&secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/db"), VersionId: aws.String("33333333-2222-3333-4444-555555555555")}),
			new(*types.ResourceNotFoundException), "VersionId: 33333333"},
		{"DescribeMissing", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("missing")})
			return err
		}, new(*types.ResourceNotFoundException), "missing"},
		{"PutMissing", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("missing"), SecretString: aws.String("x")})
			return err
		}, new(*types.ResourceNotFoundException), "missing"},
		{"CreateExisting", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("aiflow/db"), SecretString: aws.String("other")})
			return err
		}, new(*types.ResourceExistsException), "aiflow/db already exists"},
		{"PutOtherValueUnderAVersion", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db"), ClientRequestToken: aws.String(token), SecretString: aws.String("pw-3")})
			return err
		}, new(*types.ResourceExistsException), "existing version"},
		{"CreateBadName", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("bad name!"), SecretString: aws.String("x")})
			return err
		}, new(*types.InvalidParameterException), `Invalid name "bad name!"`},
		{"CreateBothValues", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("both"), SecretString: aws.String("x"), SecretBinary: []byte("y")})
			return err
		}, new(*types.InvalidParameterException), "both"},
		{"PutNoValue", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db")})
			return err
		}, new(*types.InvalidParameterException), "either SecretString or SecretBinary"},
		{"ShortToken", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db"), ClientRequestToken: aws.String("short"), SecretString: aws.String("x")})
			return err
		}, new(*types.InvalidParameterException), "ClientRequestToken"},
		{"ListTooMany", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(101)})
			return err
		}, new(*types.InvalidParameterException), "MaxResults"},
		{"ListFilterByTag", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{Filters: []types.Filter{{Key: types.FilterNameStringTypeTagKey, Values: []string{"team"}}}})
			return err
		}, new(*types.InvalidParameterException), "tag-key"},
		{"ListByDate", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{SortBy: types.SortByTypeCreatedDate})
			return err
		}, new(*types.InvalidParameterException), "SortBy"},
		{"ListBadToken", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.ListSecrets(ctx, &secretsmanager.ListSecretsInput{NextToken: aws.String("%%%")})
			return err
		}, new(*types.InvalidNextTokenException), "NextToken"},
		{"CreateWithKMSKey", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("kms"), KmsKeyId: aws.String("alias/mine"), SecretString: aws.String("x")})
			return err
		}, new(*types.InvalidRequestException), "KmsKeyId"},
		{"PutToOtherStage", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/db"), SecretString: aws.String("x"), VersionStages: []string{"AWSPENDING"}})
			return err
		}, new(*types.InvalidRequestException), "AWSCURRENT"},
		{"UnsupportedAction", func(ctx context.Context, c *secretsmanager.Client) error {
			_, err := c.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String("aiflow/db")})
			return err
		}, new(*types.InvalidRequestException), "DeleteSecret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.call(b.ctx, b.client)
			require.Error(t, err)
			require.ErrorAs(t, err, tc.target)
			var apiErr smithy.APIError
			require.True(t, errors.As(err, &apiErr))
			require.Contains(t, apiErr.ErrorMessage(), tc.message)
		})
	}

	// Nothing above changed the secret.
	out, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/db")})
	require.NoError(t, err)
	require.Equal(t, "pw-2", *out.SecretString)
}

// post sends a raw request and returns the status, the error type and
// the body.
func post(t *testing.T, url, method, target, contentType, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, "application/x-amz-json-1.1", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, resp.Header.Get("x-amzn-RequestId"))
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(raw)
}

func TestProtocolErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const ct = "application/x-amz-json-1.1"
	for _, tc := range []struct {
		name, method, target, contentType, body string
		status                                  int
		code                                    string
	}{
		{"GET", http.MethodGet, "secretsmanager.GetSecretValue", ct, `{}`, http.StatusMethodNotAllowed, secretsapi.CodeUnknownOperation},
		{"NoTarget", http.MethodPost, "", ct, `{}`, http.StatusBadRequest, secretsapi.CodeUnknownOperation},
		{"OtherService", http.MethodPost, "AmazonSQS.ListQueues", ct, `{}`, http.StatusBadRequest, secretsapi.CodeUnknownOperation},
		{"ContentType", http.MethodPost, "secretsmanager.ListSecrets", "text/plain", `{}`, http.StatusBadRequest, secretsapi.CodeSerialization},
		{"NotJSON", http.MethodPost, "secretsmanager.CreateSecret", ct, `{"Name":"x","SecretString":"hunter2-secret"`, http.StatusBadRequest, secretsapi.CodeSerialization},
		{"WrongType", http.MethodPost, "secretsmanager.CreateSecret", ct, `{"Name":"x","SecretString":42}`, http.StatusBadRequest, secretsapi.CodeSerialization},
		{"UnknownMember", http.MethodPost, "secretsmanager.GetSecretValue", ct, `{"SecretId":"x","Bogus":1}`, http.StatusBadRequest, secretsapi.CodeSerialization},
		{"NoSecretId", http.MethodPost, "secretsmanager.GetSecretValue", ct, ``, http.StatusBadRequest, secretsapi.CodeInvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, code, body := post(t, b.srv.URL, tc.method, tc.target, tc.contentType, tc.body)
			require.Equal(t, tc.status, status, body)
			require.Equal(t, tc.code, code, body)
			require.Contains(t, body, `"__type":"`+tc.code+`"`)
			require.NotContains(t, body, "hunter2-secret")
		})
	}
}
