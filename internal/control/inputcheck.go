package control

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/schema"
)

// validateInput is schema.Validate of an execution's input, decoded with
// the engine's decoder (asl.DecodeJSON, its objects then made maps) where
// schema.Validate decodes with a json.Decoder: the same value, in half the
// time and allocations, for every input of valid UTF-8
// (TestDecodedInputIsJSONSchemas). Any other input, and one that does not
// decode, is left to schema.Validate, with its errors.
func validateInput(sch *jsonschema.Schema, input json.RawMessage) ([]schema.Mismatch, error) {
	v, ok := decodeInput(input)
	if !ok {
		return schema.Validate(sch, input)
	}
	return schema.ValidateValue(sch, v)
}

// decodeInput decodes input as jsonschema.UnmarshalJSON does, and false
// when it leaves it to that.
func decodeInput(input json.RawMessage) (any, bool) {
	if !utf8.Valid(input) {
		return nil, false // encoding/json's replacements are its own to make
	}
	v, err := asl.DecodeJSON(input)
	if err != nil {
		return nil, false
	}
	return asl.Plain(v), true
}
