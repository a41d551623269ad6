package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aiflow/aiflow/internal/schema"
)

// schemaCache compiles each distinct output schema once.
type schemaCache struct {
	schemas schema.Cache
}

// compile returns the compiled schema of raw.
func (c *schemaCache) compile(raw json.RawMessage) (*jsonschema.Schema, error) {
	s, err := c.schemas.Compile(string(raw), "output_schema.json", raw)
	var se *schema.Error
	switch {
	case errors.As(err, &se) && se.Compiling:
		return nil, fmt.Errorf("compiling the output schema: %w", se.Err)
	case errors.As(err, &se):
		return nil, fmt.Errorf("reading the output schema: %w", se.Err)
	}
	return s, err
}

// Mismatch is why an answer does not fit the output schema: Pointer is
// the JSON pointer of the value at fault ("" for the whole answer) and
// Reason what is wrong with it.
type Mismatch struct {
	Pointer string
	Reason  string
}

// String says where and what, as a step's failure cause shows it.
func (m Mismatch) String() string {
	at := m.Pointer
	if at == "" {
		at = "/"
	}
	return fmt.Sprintf("at %s: %s", at, m.Reason)
}

// parseAnswer reads a model's answer as JSON, tolerating a Markdown code
// fence around it, and validates it against s. It returns the answer as
// compact JSON, or the mismatches (at least one) when it is not JSON or
// does not fit.
func parseAnswer(text string, s *jsonschema.Schema) (json.RawMessage, []Mismatch) {
	raw := []byte(unfence(text))
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, []Mismatch{{Reason: "the answer is not JSON: " + err.Error()}}
	}
	if err := s.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, []Mismatch{{Reason: err.Error()}}
		}
		return nil, mismatches(ve)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return nil, []Mismatch{{Reason: "the answer is not JSON: " + err.Error()}}
	}
	return out.Bytes(), nil
}

// mismatches lists the innermost failures of a validation, in order.
func mismatches(ve *jsonschema.ValidationError) []Mismatch {
	units := ve.BasicOutput().Errors
	var out []Mismatch
	for i, u := range units {
		if u.Error == nil {
			continue
		}
		inner := false
		for j, w := range units {
			if j != i && w.Error != nil && strings.HasPrefix(w.KeywordLocation, u.KeywordLocation+"/") {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, Mismatch{Pointer: u.InstanceLocation, Reason: u.Error.String()})
		}
	}
	if len(out) == 0 {
		out = append(out, Mismatch{Reason: ve.Error()})
	}
	return out
}

// unfence returns the JSON inside a Markdown code fence (```json ... ```),
// or the trimmed text when it has no fence.
func unfence(text string) string {
	t := strings.TrimSpace(text)
	start := strings.Index(t, "```")
	if start < 0 {
		return t
	}
	if json.Valid([]byte(t)) {
		return t
	}
	rest := t[start+3:]
	nl := strings.IndexByte(rest, '\n')
	if nl < 0 {
		return t
	}
	if lang := strings.TrimSpace(rest[:nl]); lang != "" && !strings.EqualFold(lang, "json") {
		return t
	}
	body := rest[nl+1:]
	end := strings.Index(body, "```")
	if end < 0 {
		return t
	}
	return strings.TrimSpace(body[:end])
}

// describeMismatches joins mismatches for a person or a model to read.
func describeMismatches(ms []Mismatch) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.String()
	}
	return strings.Join(parts, "; ")
}
