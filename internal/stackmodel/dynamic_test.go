package stackmodel

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDynamicReferences(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	refs, err := DynamicReferences("a{{resolve:secretsmanager:" + arn + ":SecretString:username}}b{{resolve:secretsmanager:plain}}c{{resolve:ssm:/x/y:3}}{{resolve:secretsmanager:s:SecretString:k:AWSPREVIOUS}}")
	require.NoError(t, err)
	require.Equal(t, []DynamicReference{
		{Text: "{{resolve:secretsmanager:" + arn + ":SecretString:username}}", Service: "secretsmanager", SecretID: arn, JSONKey: "username"},
		{Text: "{{resolve:secretsmanager:plain}}", Service: "secretsmanager", SecretID: "plain"},
		{Text: "{{resolve:ssm:/x/y:3}}", Service: "ssm", Parameter: "/x/y", Version: "3"},
		{Text: "{{resolve:secretsmanager:s:SecretString:k:AWSPREVIOUS}}", Service: "secretsmanager", SecretID: "s", JSONKey: "k", VersionStage: "AWSPREVIOUS"},
	}, refs)

	for text, msg := range map[string]string{
		"{{resolve:secretsmanager:x":                        "has no closing }}",
		"{{resolve:vault:x}}":                               "vault is not secretsmanager, ssm or ssm-secure",
		"{{resolve:secretsmanager}}":                        "names no key",
		"{{resolve:secretsmanager:arn:aws:x}}":              "is not a secret's ARN",
		"{{resolve:secretsmanager:s:SecretBinary:k}}":       "the secret type is SecretString, not SecretBinary",
		"{{resolve:secretsmanager:s:SecretString:a:b:c:d}}": "too many parts",
	} {
		_, err := DynamicReferences(text)
		require.ErrorContains(t, err, msg, text)
	}
}

func TestReplaceDynamicReferencesInTheRepositoryTemplate(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	var secret Secret
	for _, sc := range s.Secrets {
		if sc.LogicalID == "DatabaseSecret" {
			secret = sc
		}
	}
	api, _ := s.Function("ApiFunction")
	url, err := ReplaceDynamicReferences(api.Environment["DATABASE_URL"], func(r DynamicReference) (string, error) {
		require.Equal(t, secret.ARN, r.SecretID)
		return map[string]string{"username": "aiflow_admin", "password": "pw"}[r.JSONKey], nil
	})
	require.NoError(t, err)
	require.Regexp(t, `^postgres://aiflow_admin:pw@aiflow-databasecluster\.cluster-[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com:5432/aiflow\?sslmode=require$`, url)

	_, err = ReplaceDynamicReferences(api.Environment["DATABASE_URL"], func(DynamicReference) (string, error) {
		return "", errors.New("no such secret")
	})
	require.ErrorContains(t, err, "resolving {{resolve:secretsmanager:"+secret.ARN+":SecretString:username}}: no such secret")
}
