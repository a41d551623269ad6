package secretsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Declared is a secret a template declares: the properties of an
// AWS::SecretsManager::Secret resource, under their CloudFormation names,
// so a template's properties decode into it.
type Declared struct {
	Name        string `json:"Name"`
	Description string `json:"Description,omitempty"`
	// SecretString is a fixed value. With neither it nor
	// GenerateSecretString the secret is made empty, as CloudFormation
	// makes it.
	SecretString         *string               `json:"SecretString,omitempty"`
	GenerateSecretString *GenerateSecretString `json:"GenerateSecretString,omitempty"`
}

// GenerateSecretString is CloudFormation's spec of a generated value: a
// random password of PasswordLength characters (32 when zero) from
// letters, digits and punctuation less the excluded ones, or a JSON
// object, SecretStringTemplate, with the password as its member
// GenerateStringKey.
type GenerateSecretString struct {
	PasswordLength     int    `json:"PasswordLength,omitempty"`
	ExcludeCharacters  string `json:"ExcludeCharacters,omitempty"`
	ExcludeLowercase   bool   `json:"ExcludeLowercase,omitempty"`
	ExcludeUppercase   bool   `json:"ExcludeUppercase,omitempty"`
	ExcludeNumbers     bool   `json:"ExcludeNumbers,omitempty"`
	ExcludePunctuation bool   `json:"ExcludePunctuation,omitempty"`
	IncludeSpace       bool   `json:"IncludeSpace,omitempty"`
	// RequireEachIncludedType, true when nil as in CloudFormation, makes
	// the password hold at least one character of every included kind.
	RequireEachIncludedType *bool  `json:"RequireEachIncludedType,omitempty"`
	SecretStringTemplate    string `json:"SecretStringTemplate,omitempty"`
	GenerateStringKey       string `json:"GenerateStringKey,omitempty"`
}

// DefaultPasswordLength is the length of a generated password whose spec
// names none, as in Secrets Manager.
const DefaultPasswordLength = 32

// The kinds of characters of a generated password; punctuation is the
// set Secrets Manager's GetRandomPassword uses.
const (
	lowercase   = "abcdefghijklmnopqrstuvwxyz"
	uppercase   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numbers     = "0123456789"
	punctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	maxAttempts = 100
)

// Generate returns a value made by spec from the randomness r: a password,
// or the template's JSON object with the password at the key. Its errors
// name the spec's fault (no character left, a template that is not a JSON
// object, a key without a template) and never hold a generated value.
func Generate(r io.Reader, spec GenerateSecretString) (string, error) {
	if (spec.SecretStringTemplate == "") != (spec.GenerateStringKey == "") {
		return "", errors.New("generating a secret: SecretStringTemplate and GenerateStringKey go together")
	}
	var object map[string]any
	if spec.SecretStringTemplate != "" {
		if err := json.Unmarshal([]byte(spec.SecretStringTemplate), &object); err != nil || object == nil {
			return "", errors.New("generating a secret: SecretStringTemplate is not a JSON object")
		}
	}
	password, err := generatePassword(r, spec)
	if err != nil {
		return "", err
	}
	if object == nil {
		return password, nil
	}
	object[spec.GenerateStringKey] = password
	raw, err := json.Marshal(object)
	if err != nil {
		return "", errors.New("generating a secret: encoding the template")
	}
	return string(raw), nil
}

func generatePassword(r io.Reader, spec GenerateSecretString) (string, error) {
	length := spec.PasswordLength
	if length == 0 {
		length = DefaultPasswordLength
	}
	if length < 1 || length > 4096 {
		return "", fmt.Errorf("generating a secret: PasswordLength %d is not between 1 and 4096", length)
	}
	var kinds []string
	add := func(exclude bool, chars string) {
		if exclude {
			return
		}
		kept := strings.Map(func(c rune) rune {
			if strings.ContainsRune(spec.ExcludeCharacters, c) {
				return -1
			}
			return c
		}, chars)
		if kept != "" {
			kinds = append(kinds, kept)
		}
	}
	add(spec.ExcludeLowercase, lowercase)
	add(spec.ExcludeUppercase, uppercase)
	add(spec.ExcludeNumbers, numbers)
	add(spec.ExcludePunctuation, punctuation)
	add(!spec.IncludeSpace, " ")
	if len(kinds) == 0 {
		return "", errors.New("generating a secret: the exclusions leave no character to choose from")
	}
	charset := strings.Join(kinds, "")
	requireEach := spec.RequireEachIncludedType == nil || *spec.RequireEachIncludedType
	if requireEach && length < len(kinds) {
		return "", fmt.Errorf("generating a secret: PasswordLength %d is shorter than the %d kinds of character it must include", length, len(kinds))
	}
	for range maxAttempts {
		password, err := randomString(r, length, charset)
		if err != nil {
			return "", fmt.Errorf("generating a secret: %w", err)
		}
		if !requireEach || hasEach(password, kinds) {
			return password, nil
		}
	}
	return "", fmt.Errorf("generating a secret: no password of %d characters held every kind in %d attempts", length, maxAttempts)
}

func hasEach(password string, kinds []string) bool {
	for _, k := range kinds {
		if !strings.ContainsAny(password, k) {
			return false
		}
	}
	return true
}

// Ensure creates the declared secrets that do not exist yet, their values
// generated from the Service's randomness (crypto/rand unless Options
// said otherwise), and returns the names it created. A secret that exists
// is left as it is, whatever its value, so a restart or a changed spec
// never replaces a value already handed out. Its error names the secret
// it could not make; it never holds a value.
func (s *Service) Ensure(ctx context.Context, declared []Declared) ([]string, error) {
	var created []string
	for _, d := range declared {
		if err := validName(d.Name); err != nil {
			return created, fmt.Errorf("ensuring declared secret %q: %w", d.Name, err)
		}
		_, err := s.store.Get(ctx, d.Name)
		if err == nil {
			continue
		}
		if !errors.Is(err, ErrNotFound) {
			return created, fmt.Errorf("ensuring declared secret %q: %w", d.Name, err)
		}
		if d.SecretString != nil && d.GenerateSecretString != nil {
			return created, fmt.Errorf("ensuring declared secret %q: it has both SecretString and GenerateSecretString", d.Name)
		}
		value := d.SecretString
		if d.GenerateSecretString != nil {
			v, err := Generate(s.rand, *d.GenerateSecretString)
			if err != nil {
				return created, fmt.Errorf("ensuring declared secret %q: %w", d.Name, err)
			}
			value = &v
		}
		_, err = s.Create(ctx, CreateParams{Name: d.Name, Description: d.Description, SecretString: value})
		var ae *apiError
		switch {
		case errors.As(err, &ae) && ae.Code == CodeResourceExists:
			continue // made meanwhile by a CreateSecret
		case err != nil:
			return created, fmt.Errorf("ensuring declared secret %q: %w", d.Name, err)
		}
		created = append(created, d.Name)
	}
	return created, nil
}
