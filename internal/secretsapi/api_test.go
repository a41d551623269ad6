package secretsapi_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/stretchr/testify/require"
)

var arnPattern = regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:aiflow/db-[A-Za-z0-9]{6}$`)

func TestGetSecretValueByNameAndARN(t *testing.T) {
	t.Parallel()
	b := setup(t)
	arn := b.create(t, "aiflow/db", `{"username":"aiflow_admin","password":"pw-1"}`)
	require.Regexp(t, arnPattern, arn)
	partial := arn[:len(arn)-7]

	for _, id := range []string{"aiflow/db", arn, partial} {
		out, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		require.NoError(t, err, id)
		require.Equal(t, arn, *out.ARN, id)
		require.Equal(t, "aiflow/db", *out.Name, id)
		require.Equal(t, `{"username":"aiflow_admin","password":"pw-1"}`, *out.SecretString, id)
		require.Nil(t, out.SecretBinary, id)
		require.Equal(t, []string{"AWSCURRENT"}, out.VersionStages, id)
		require.NotEmpty(t, *out.VersionId, id)
		require.True(t, start.Equal(*out.CreatedDate), "%s: created %v", id, out.CreatedDate)
	}

	out, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/db"), VersionStage: aws.String("AWSCURRENT")})
	require.NoError(t, err)
	byID, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn), VersionId: out.VersionId})
	require.NoError(t, err)
	require.Equal(t, *out.SecretString, *byID.SecretString)
}

func TestSecretBinary(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("tls-key"), SecretBinary: []byte{0, 1, 2, 0xff}})
	require.NoError(t, err)
	out, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("tls-key")})
	require.NoError(t, err)
	require.Equal(t, []byte{0, 1, 2, 0xff}, out.SecretBinary)
	require.Nil(t, out.SecretString)
}

func TestDescribeSecret(t *testing.T) {
	t.Parallel()
	b := setup(t)
	created, err := b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String("aiflow/db"), Description: aws.String("database master credentials"), SecretString: aws.String("pw-1"),
	})
	require.NoError(t, err)
	b.clock.Advance(time.Hour)
	put, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, SecretString: aws.String("pw-2")})
	require.NoError(t, err)

	out, err := b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("aiflow/db")})
	require.NoError(t, err)
	require.Equal(t, *created.ARN, *out.ARN)
	require.Equal(t, "aiflow/db", *out.Name)
	require.Equal(t, "database master credentials", *out.Description)
	require.True(t, start.Equal(*out.CreatedDate))
	require.True(t, start.Add(time.Hour).Equal(*out.LastChangedDate))
	require.Equal(t, map[string][]string{
		*created.VersionId: {"AWSPREVIOUS"},
		*put.VersionId:     {"AWSCURRENT"},
	}, out.VersionIdsToStages)
}

func TestListSecretsPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	names := []string{"a/1", "a/2", "a/3", "b/1", "b/2", "c", "d"}
	for _, n := range []string{"d", "a/3", "b/1", "a/1", "c", "b/2", "a/2"} {
		b.create(t, n, "value-of-"+n)
	}

	var got []string
	pages := 0
	p := secretsmanager.NewListSecretsPaginator(b.client, &secretsmanager.ListSecretsInput{MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(b.ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.SecretList), 3)
		pages++
		for _, e := range page.SecretList {
			got = append(got, *e.Name)
			require.Contains(t, *e.ARN, ":secret:"+*e.Name+"-")
			require.Len(t, e.SecretVersionsToStages, 1)
		}
	}
	require.Equal(t, names, got)
	require.Equal(t, 3, pages)

	out, err := b.client.ListSecrets(b.ctx, &secretsmanager.ListSecretsInput{
		Filters: []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{"a/", "c"}}},
	})
	require.NoError(t, err)
	require.Nil(t, out.NextToken)
	var filtered []string
	for _, e := range out.SecretList {
		filtered = append(filtered, *e.Name)
	}
	require.Equal(t, []string{"a/1", "a/2", "a/3", "c"}, filtered)

	out, err = b.client.ListSecrets(b.ctx, &secretsmanager.ListSecretsInput{SortBy: types.SortByTypeName, SortOrder: types.SortOrderTypeDesc, MaxResults: aws.Int32(2)})
	require.NoError(t, err)
	require.Equal(t, "d", *out.SecretList[0].Name)
	require.Equal(t, "c", *out.SecretList[1].Name)
	out, err = b.client.ListSecrets(b.ctx, &secretsmanager.ListSecretsInput{SortOrder: types.SortOrderTypeDesc, NextToken: out.NextToken})
	require.NoError(t, err)
	require.Len(t, out.SecretList, 5)
	require.Equal(t, "b/2", *out.SecretList[0].Name)
}

func TestCreateAndPutSecretValue(t *testing.T) {
	t.Parallel()
	b := setup(t)
	token := "11111111-2222-3333-4444-555555555555"
	created, err := b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("openai-api-key"), ClientRequestToken: aws.String(token), SecretString: aws.String("sk-proj-first")})
	require.NoError(t, err)
	require.Equal(t, token, *created.VersionId, "the token is the first version's id")
	again, err := b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("openai-api-key"), ClientRequestToken: aws.String(token), SecretString: aws.String("sk-proj-first")})
	require.NoError(t, err, "a retried CreateSecret returns the secret it made")
	require.Equal(t, *created.ARN, *again.ARN)

	put, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("openai-api-key"), SecretString: aws.String("sk-proj-rotated")})
	require.NoError(t, err)
	require.Equal(t, []string{"AWSCURRENT"}, put.VersionStages)
	require.NotEqual(t, token, *put.VersionId, "the SDK fills a new token")
	retried, err := b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: created.ARN, ClientRequestToken: put.VersionId, SecretString: aws.String("sk-proj-rotated")})
	require.NoError(t, err, "a retried PutSecretValue is a no-op")
	require.Equal(t, *put.VersionId, *retried.VersionId)

	cur, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("openai-api-key")})
	require.NoError(t, err)
	require.Equal(t, "sk-proj-rotated", *cur.SecretString)
	prev, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("openai-api-key"), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	require.Equal(t, "sk-proj-first", *prev.SecretString)
	require.Equal(t, token, *prev.VersionId)
	require.Equal(t, []string{"AWSPREVIOUS"}, prev.VersionStages)

	// A secret made without a value has none until a PutSecretValue.
	_, err = b.client.CreateSecret(b.ctx, &secretsmanager.CreateSecretInput{Name: aws.String("empty")})
	require.NoError(t, err)
	_, err = b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	require.ErrorAs(t, err, new(*types.ResourceNotFoundException))
	_, err = b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("empty"), SecretString: aws.String("now-set")})
	require.NoError(t, err)
	got, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("empty")})
	require.NoError(t, err)
	require.Equal(t, "now-set", *got.SecretString)
}
