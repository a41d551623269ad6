package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/secretsapi"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// secretsFile is the file, in DataDir, that keeps the stack's secrets.
const secretsFile = "secrets.json"

// startSecrets opens the secrets' file (made on first start, 0600), creates
// the template's secrets that do not exist yet, generating their values as
// CloudFormation does, and records each one's ARN for Ref.
func (s *Stack) startSecrets(ctx context.Context, declared []stackmodel.Secret, names *localNames) error {
	store, err := secretsapi.OpenFileStore(filepath.Join(s.p.DataDir, secretsFile))
	if err != nil {
		return fmt.Errorf("opening the stack's secrets: %w", err)
	}
	s.secretStore = store
	s.secrets = secretsapi.New(store, secretsapi.Options{Region: s.p.Region, AccountID: s.p.AccountID, Logger: s.logger})
	decl := make([]secretsapi.Declared, len(declared))
	for i, d := range declared {
		decl[i] = secretsapi.Declared{Name: d.Name, Description: d.Description}
		if d.Generate != nil {
			g := d.Generate
			require := g.RequireEachIncludedType
			decl[i].GenerateSecretString = &secretsapi.GenerateSecretString{
				PasswordLength: g.PasswordLength, ExcludeCharacters: g.ExcludeCharacters,
				ExcludeLowercase: g.ExcludeLowercase, ExcludeUppercase: g.ExcludeUppercase,
				ExcludeNumbers: g.ExcludeNumbers, ExcludePunctuation: g.ExcludePunctuation,
				IncludeSpace: g.IncludeSpace, RequireEachIncludedType: &require,
				SecretStringTemplate: g.SecretStringTemplate, GenerateStringKey: g.GenerateStringKey,
			}
		} else if d.SecretString != "" {
			v := d.SecretString
			decl[i].SecretString = &v
		}
	}
	created, err := s.secrets.Ensure(ctx, decl)
	if err != nil {
		return fmt.Errorf("making the template's secrets: %w", err)
	}
	if len(created) > 0 {
		s.progress("secrets: %d made in %s", len(created), store.Path())
	}
	for _, d := range declared {
		sec, err := store.Get(ctx, d.Name)
		if err != nil {
			return fmt.Errorf("reading the secret %s (%s): %w", d.LogicalID, d.Name, err)
		}
		names.secretARNs[d.LogicalID] = sec.ARN
	}
	return nil
}

// secretValue returns the current value of the secret id (a name or an
// ARN), or of its JSON key when key is set: a dynamic reference's value.
func (s *Stack) secretValue(ctx context.Context, id, key string) (string, error) {
	v, err := s.secrets.SecretString(ctx, id)
	if err != nil {
		return "", fmt.Errorf("reading the secret %s (a dynamic reference names it): %w", id, err)
	}
	if key == "" {
		return v, nil
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(v), &fields); err != nil {
		return "", fmt.Errorf("the secret %s is not a JSON object, so it has no key %s", id, key)
	}
	f, ok := fields[key]
	if !ok {
		return "", fmt.Errorf("the secret %s has no key %s", id, key)
	}
	if str, ok := f.(string); ok {
		return str, nil
	}
	raw, _ := json.Marshal(f)
	return string(raw), nil
}

// resolveDynamic replaces the dynamic references to Secrets Manager in v
// with the secrets' values, as CloudFormation does at deploy time. Other
// services' references (SSM) are refused.
func (s *Stack) resolveDynamic(ctx context.Context, v string) (string, error) {
	return stackmodel.ReplaceDynamicReferences(v, func(r stackmodel.DynamicReference) (string, error) {
		if r.Service != "secretsmanager" {
			return "", fmt.Errorf("%s: the stack resolves Secrets Manager references only, not %s", r.Text, r.Service)
		}
		if r.VersionID != "" || (r.VersionStage != "" && r.VersionStage != secretsapi.StageCurrent) {
			return "", errors.New(r.Text + ": the stack resolves the current version of a secret only")
		}
		return s.secretValue(ctx, r.SecretID, r.JSONKey)
	})
}
