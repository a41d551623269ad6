package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"
)

// DefaultTTL is how long SecretsManager keeps a value when its options name
// no TTL: short enough that a rotated key reaches every Lambda within
// minutes, long enough that a busy function calls Secrets Manager rarely.
const DefaultTTL = 5 * time.Minute

// GetSecretValueAPI is the one call of the Secrets Manager client that
// SecretsManager makes.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManagerOptions configure a SecretsManager.
type SecretsManagerOptions struct {
	// Prefix goes before every name to make the secret id, e.g. "aiflow/".
	Prefix string
	// TTL is how long a value is served from the cache; zero means
	// DefaultTTL.
	TTL time.Duration
	// NowFunc is the clock of the cache; nil means time.Now.
	NowFunc func() time.Time
}

// SecretsManager is the Source over AWS Secrets Manager. A name is a secret
// id (a name or an ARN) after Prefix, optionally followed by "#" and a key
// of the secret's JSON object, so one secret can hold several keys:
// "providers#anthropic" is the "anthropic" member of secret "providers".
// Values are cached for the TTL; a missing secret is not cached. It is safe
// for concurrent use.
type SecretsManager struct {
	client GetSecretValueAPI
	prefix string
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	value   string
	fetched time.Time
}

// NewSecretsManager returns a SecretsManager reading through client.
func NewSecretsManager(client GetSecretValueAPI, opts SecretsManagerOptions) *SecretsManager {
	ttl := opts.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	now := opts.NowFunc
	if now == nil {
		now = time.Now
	}
	return &SecretsManager{client: client, prefix: opts.Prefix, ttl: ttl, now: now, cache: map[string]cached{}}
}

// NewSecretsManagerFromConfig returns a SecretsManager over a Secrets
// Manager client built from cfg (endpoint, region and credentials as cfg
// and the environment say, AWS_ENDPOINT_URL_SECRETS_MANAGER included).
func NewSecretsManagerFromConfig(cfg aws.Config, opts SecretsManagerOptions) *SecretsManager {
	return NewSecretsManager(secretsmanager.NewFromConfig(cfg), opts)
}

// Get returns the secret's value, from the cache while it is younger than
// the TTL. It returns an error wrapping ErrNotFound when Secrets Manager has
// no such secret (or its JSON no such key), and an error naming the secret
// and Secrets Manager's own error code otherwise.
func (s *SecretsManager) Get(ctx context.Context, name string) (string, error) {
	id, key, hasKey := strings.Cut(s.prefix+name, "#")
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if !ok || now.Sub(c.fetched) >= s.ttl || now.Before(c.fetched) {
		value, err := s.fetch(ctx, name, id)
		if err != nil {
			return "", err
		}
		c = cached{value: value, fetched: now}
		s.mu.Lock()
		s.cache[id] = c
		s.mu.Unlock()
	}
	if !hasKey {
		return c.value, nil
	}
	return member(name, id, key, c.value)
}

func (s *SecretsManager) fetch(ctx context.Context, name, id string) (string, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode() == "ResourceNotFoundException" {
			return "", &NotFoundError{Name: name, Where: "Secrets Manager secret " + quote(id)}
		}
		if errors.As(err, &apiErr) {
			return "", fmt.Errorf("getting secret %q from Secrets Manager: %s: %w", id, apiErr.ErrorCode(), err)
		}
		return "", fmt.Errorf("getting secret %q from Secrets Manager: %w", id, err)
	}
	switch {
	case out.SecretString != nil:
		return *out.SecretString, nil
	case out.SecretBinary != nil:
		return string(out.SecretBinary), nil
	default:
		return "", &NotFoundError{Name: name, Where: "Secrets Manager secret " + quote(id) + " has no value"}
	}
}

// member returns the string member key of the JSON object value.
func member(name, id, key, value string) (string, error) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(value), &obj); err != nil {
		return "", fmt.Errorf("reading key %q of secret %q: the secret is not a JSON object", key, id)
	}
	v, ok := obj[key]
	if !ok {
		return "", &NotFoundError{Name: name, Where: "no key " + quote(key) + " in Secrets Manager secret " + quote(id)}
	}
	str, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("reading key %q of secret %q: the value is not a string", key, id)
	}
	return str, nil
}
