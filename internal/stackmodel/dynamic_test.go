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

func TestReplaceDynamicReferences(t *testing.T) {
	t.Parallel()
	arn := "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"
	text := "postgres://{{resolve:secretsmanager:" + arn + ":SecretString:username}}:{{resolve:secretsmanager:" + arn + ":SecretString:password}}@db:5432/aiflow"
	url, err := ReplaceDynamicReferences(text, func(r DynamicReference) (string, error) {
		require.Equal(t, arn, r.SecretID)
		return map[string]string{"username": "aiflow_admin", "password": "pw"}[r.JSONKey], nil
	})
	require.NoError(t, err)
	require.Equal(t, "postgres://aiflow_admin:pw@db:5432/aiflow", url)

	_, err = ReplaceDynamicReferences(text, func(DynamicReference) (string, error) {
		return "", errors.New("no such secret")
	})
	require.ErrorContains(t, err, "resolving {{resolve:secretsmanager:"+arn+":SecretString:username}}: no such secret")
}

// TestRepositoryTemplateResolvesNoDatabaseSecret: the functions read
// their database credentials from Secrets Manager at run time, so no
// environment variable of the repository's template resolves one.
func TestRepositoryTemplateResolvesNoDatabaseSecret(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	for _, f := range s.Functions {
		for k, v := range f.Environment {
			refs, err := DynamicReferences(v)
			require.NoError(t, err, "%s %s", f.LogicalID, k)
			for _, r := range refs {
				for _, sec := range s.Secrets {
					require.NotEqual(t, sec.ARN, r.SecretID, "%s's %s resolves the secret %s into its environment", f.LogicalID, k, sec.LogicalID)
				}
			}
		}
	}
}
