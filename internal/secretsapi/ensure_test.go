package secretsapi_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/secretsapi"
)

// databaseSecret is template.yaml's DatabaseSecret, decoded from its
// properties as the stack decodes them.
func databaseSecret(t *testing.T) secretsapi.Declared {
	t.Helper()
	var d secretsapi.Declared
	require.NoError(t, json.Unmarshal([]byte(`{
		"Name": "aiflow/database",
		"Description": "aiflow (aiflow) database master credentials",
		"GenerateSecretString": {
			"SecretStringTemplate": "{\"username\": \"aiflow_admin\"}",
			"GenerateStringKey": "password",
			"PasswordLength": 32,
			"ExcludePunctuation": true
		}
	}`), &d))
	return d
}

func TestEnsureCreatesMissingSecrets(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fixed := "sk-ant-fixed"
	created, err := b.svc.Ensure(b.ctx, []secretsapi.Declared{
		databaseSecret(t),
		{Name: "anthropic-api-key", SecretString: &fixed},
		{Name: "support-token", GenerateSecretString: &secretsapi.GenerateSecretString{PasswordLength: 48, ExcludeCharacters: `"'\/@`}},
		{Name: "filled-later"},
	})
	require.NoError(t, err)
	require.Equal(t, []string{"aiflow/database", "anthropic-api-key", "support-token", "filled-later"}, created)

	out, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/database")})
	require.NoError(t, err)
	var db map[string]string
	require.NoError(t, json.Unmarshal([]byte(*out.SecretString), &db))
	require.Equal(t, "aiflow_admin", db["username"])
	require.Len(t, db["password"], 32)
	require.Regexp(t, `^[A-Za-z0-9]{32}$`, db["password"], "no punctuation, no space")
	desc, err := b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: out.ARN})
	require.NoError(t, err)
	require.Equal(t, "aiflow (aiflow) database master credentials", *desc.Description)

	out, err = b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("anthropic-api-key")})
	require.NoError(t, err)
	require.Equal(t, "sk-ant-fixed", *out.SecretString)

	out, err = b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("support-token")})
	require.NoError(t, err)
	require.Len(t, *out.SecretString, 48)
	require.NotContains(t, *out.SecretString, " ")
	require.False(t, strings.ContainsAny(*out.SecretString, `"'\/@`))

	_, err = b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("filled-later")})
	require.NoError(t, err, "a declared secret with no value is made empty")
}

func TestEnsureNeverOverwrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	store, err := secretsapi.OpenFileStore(path)
	require.NoError(t, err)
	b := setupWith(t, store)
	decl := []secretsapi.Declared{databaseSecret(t)}
	created, err := b.svc.Ensure(b.ctx, decl)
	require.NoError(t, err)
	require.Equal(t, []string{"aiflow/database"}, created)
	first, err := b.client.GetSecretValue(b.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/database")})
	require.NoError(t, err)

	// Started again, over the same file, with a different spec: nothing
	// changes.
	again, err := secretsapi.OpenFileStore(path)
	require.NoError(t, err)
	b2 := setupWith(t, again)
	decl[0].GenerateSecretString.PasswordLength = 64
	created, err = b2.svc.Ensure(b2.ctx, decl)
	require.NoError(t, err)
	require.Empty(t, created)
	second, err := b2.client.GetSecretValue(b2.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/database")})
	require.NoError(t, err)
	require.Equal(t, *first.SecretString, *second.SecretString)
	require.Equal(t, *first.VersionId, *second.VersionId)

	// A value put by hand is kept as well.
	_, err = b2.client.PutSecretValue(b2.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String("aiflow/database"), SecretString: aws.String(`{"username":"me","password":"mine"}`)})
	require.NoError(t, err)
	created, err = b2.svc.Ensure(b2.ctx, decl)
	require.NoError(t, err)
	require.Empty(t, created)
	third, err := b2.client.GetSecretValue(b2.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/database")})
	require.NoError(t, err)
	require.JSONEq(t, `{"username":"me","password":"mine"}`, *third.SecretString)
}

func TestEnsureRefusesBadDeclarations(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fixed := "x"
	for _, d := range []secretsapi.Declared{
		{Name: "bad name"},
		{Name: "both", SecretString: &fixed, GenerateSecretString: &secretsapi.GenerateSecretString{}},
		{Name: "no-key", GenerateSecretString: &secretsapi.GenerateSecretString{SecretStringTemplate: `{"u":"x"}`}},
		{Name: "not-object", GenerateSecretString: &secretsapi.GenerateSecretString{SecretStringTemplate: `[1]`, GenerateStringKey: "k"}},
		{Name: "nothing-left", GenerateSecretString: &secretsapi.GenerateSecretString{ExcludeLowercase: true, ExcludeUppercase: true, ExcludeNumbers: true, ExcludePunctuation: true}},
	} {
		_, err := b.svc.Ensure(b.ctx, []secretsapi.Declared{d})
		require.Error(t, err, d.Name)
		require.Contains(t, err.Error(), d.Name)
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	r := newRand(7)
	for _, tc := range []struct {
		spec    secretsapi.GenerateSecretString
		pattern string
	}{
		{secretsapi.GenerateSecretString{}, `^[!-~]{32}$`},
		{secretsapi.GenerateSecretString{PasswordLength: 4, ExcludePunctuation: true}, `^[A-Za-z0-9]{4}$`},
		{secretsapi.GenerateSecretString{PasswordLength: 20, ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}, `^[0-9]{20}$`},
		{secretsapi.GenerateSecretString{PasswordLength: 16, ExcludeNumbers: true, ExcludePunctuation: true, ExcludeCharacters: "aeiouAEIOU"}, `^[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z]{16}$`},
		{secretsapi.GenerateSecretString{PasswordLength: 12, IncludeSpace: true, ExcludePunctuation: true}, `^[A-Za-z0-9 ]{12}$`},
	} {
		for range 50 {
			got, err := secretsapi.Generate(r, tc.spec)
			require.NoError(t, err)
			require.Regexp(t, tc.pattern, got)
			if tc.spec.RequireEachIncludedType == nil && !tc.spec.ExcludeNumbers {
				require.Regexp(t, `[0-9]`, got, "every included kind appears")
			}
			if tc.spec.IncludeSpace {
				require.Contains(t, got, " ")
			}
		}
	}
	_, err := secretsapi.Generate(r, secretsapi.GenerateSecretString{PasswordLength: 3})
	require.ErrorContains(t, err, "shorter than the 4 kinds")
	no := false
	got, err := secretsapi.Generate(r, secretsapi.GenerateSecretString{PasswordLength: 3, RequireEachIncludedType: &no})
	require.NoError(t, err)
	require.Len(t, got, 3)
}

// TestSecretString: the current value by name, ARN and partial ARN, as
// GetSecretValue finds it; a secret without a value or of no name is not
// found.
func TestSecretString(t *testing.T) {
	t.Parallel()
	b := setup(t)
	fixed := "sk-ant-fixed"
	_, err := b.svc.Ensure(b.ctx, []secretsapi.Declared{{Name: "anthropic-api-key", SecretString: &fixed}, {Name: "filled-later"}})
	require.NoError(t, err)
	desc, err := b.client.DescribeSecret(b.ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("anthropic-api-key")})
	require.NoError(t, err)
	arn := aws.ToString(desc.ARN)
	for _, id := range []string{"anthropic-api-key", arn, arn[:len(arn)-7]} {
		v, err := b.svc.SecretString(b.ctx, id)
		require.NoError(t, err, id)
		require.Equal(t, fixed, v, id)
	}
	for _, id := range []string{"filled-later", "nope"} {
		_, err := b.svc.SecretString(b.ctx, id)
		require.ErrorIs(t, err, secretsapi.ErrNotFound, id)
		require.NotContains(t, err.Error(), fixed)
	}
}
