package stackmodel

import (
	"fmt"
	"strings"
)

// DynamicReference is one of CloudFormation's dynamic references,
// {{resolve:service:key}}, which CloudFormation reads at deploy time and
// Resolve leaves in the strings as written.
type DynamicReference struct {
	// Text is the whole reference, braces included.
	Text string
	// Service is secretsmanager, ssm or ssm-secure.
	Service string
	// SecretID, JSONKey, VersionStage and VersionID are the parts of a
	// secretsmanager reference (SecretString is the only secret type).
	SecretID, JSONKey, VersionStage, VersionID string
	// Parameter and Version are the parts of an ssm or ssm-secure one.
	Parameter, Version string
}

// DynamicReferences returns the dynamic references in s, in order. It
// returns an error for a reference without its closing braces, of an
// unknown service, or of the wrong shape.
func DynamicReferences(s string) ([]DynamicReference, error) {
	var out []DynamicReference
	for {
		i := strings.Index(s, "{{resolve:")
		if i < 0 {
			return out, nil
		}
		s = s[i:]
		end := strings.Index(s, "}}")
		if end < 0 {
			return nil, fmt.Errorf("dynamic reference %q has no closing }}", s)
		}
		ref, err := parseDynamic(s[:end+2])
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
		s = s[end+2:]
	}
}

func parseDynamic(text string) (DynamicReference, error) {
	d := DynamicReference{Text: text}
	body := strings.TrimSuffix(strings.TrimPrefix(text, "{{resolve:"), "}}")
	service, key, ok := strings.Cut(body, ":")
	if !ok || key == "" {
		return d, fmt.Errorf("dynamic reference %s names no key", text)
	}
	d.Service = service
	switch service {
	case "ssm", "ssm-secure":
		d.Parameter, d.Version, _ = strings.Cut(key, ":")
		return d, nil
	case "secretsmanager":
	default:
		return d, fmt.Errorf("dynamic reference %s: %s is not secretsmanager, ssm or ssm-secure", text, service)
	}
	parts := strings.Split(key, ":")
	// A secret's ARN has colons of its own: arn:partition:secretsmanager:region:account:secret:name.
	n := 1
	if parts[0] == "arn" {
		n = 7
		if len(parts) < n {
			return d, fmt.Errorf("dynamic reference %s: %s is not a secret's ARN", text, key)
		}
	}
	d.SecretID = strings.Join(parts[:n], ":")
	rest := parts[n:]
	if len(rest) > 0 && rest[0] != "" && rest[0] != "SecretString" {
		return d, fmt.Errorf("dynamic reference %s: the secret type is SecretString, not %s", text, rest[0])
	}
	if len(rest) > 4 {
		return d, fmt.Errorf("dynamic reference %s has too many parts", text)
	}
	for i, dst := range []*string{&d.JSONKey, &d.VersionStage, &d.VersionID} {
		if len(rest) > i+1 {
			*dst = rest[i+1]
		}
	}
	return d, nil
}

// ReplaceDynamicReferences replaces each dynamic reference in s with what
// value returns for it, as CloudFormation does at deploy time (the stack
// reads its own secrets). It returns the first error.
func ReplaceDynamicReferences(s string, value func(DynamicReference) (string, error)) (string, error) {
	refs, err := DynamicReferences(s)
	if err != nil {
		return "", err
	}
	for _, r := range refs {
		v, err := value(r)
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", r.Text, err)
		}
		s = strings.Replace(s, r.Text, v, 1)
	}
	return s, nil
}
