// Package secrets owns the secrets port: a Source that answers a secret's
// value by its name, with an adapter over the process environment (local
// runs) and one over AWS Secrets Manager with a time-limited cache (Lambda).
// Model providers take their keys as plain options; the wiring reads them
// through a Source.
package secrets

import (
	"context"
	"errors"
	"os"
	"strings"
)

// ErrNotFound is wrapped by the error of a Source that has no secret by the
// name asked for.
var ErrNotFound = errors.New("secret not found")

// Source answers the value of a secret by its name. Get returns an error
// wrapping ErrNotFound when there is no such secret, and another error when
// the store cannot be read.
type Source interface {
	Get(ctx context.Context, name string) (string, error)
}

// Env is the Source over environment variables: a name maps to the variable
// EnvName gives, after Prefix. An unset or empty variable is not found.
type Env struct {
	// Prefix goes before every variable name, e.g. "AIFLOW_".
	Prefix string
	// LookupEnvFunc reads a variable; nil means os.LookupEnv.
	LookupEnvFunc func(key string) (string, bool)
}

// Get returns the value of the variable for name, or an error wrapping
// ErrNotFound that names the variable.
func (e Env) Get(_ context.Context, name string) (string, error) {
	key := e.Prefix + EnvName(name)
	lookup := e.LookupEnvFunc
	if lookup == nil {
		lookup = os.LookupEnv
	}
	if v, ok := lookup(key); ok && v != "" {
		return v, nil
	}
	return "", &NotFoundError{Name: name, Where: "environment variable " + key}
}

// EnvName is the environment variable for a secret's name: upper case, with
// every character other than a letter or a digit turned into an underscore,
// so "anthropic-api-key" and "anthropic/api_key" both read
// ANTHROPIC_API_KEY.
func EnvName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

// NotFoundError says which secret is missing and where it was looked for.
// It wraps ErrNotFound.
type NotFoundError struct {
	Name  string
	Where string
}

func (e *NotFoundError) Error() string {
	return "secret " + quote(e.Name) + " not found (" + e.Where + ")"
}

// Unwrap returns ErrNotFound.
func (e *NotFoundError) Unwrap() error { return ErrNotFound }

func quote(s string) string { return `"` + s + `"` }
