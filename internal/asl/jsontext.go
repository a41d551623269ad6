package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// DecodeJSONText decodes text as DecodeJSON does and reports whether text
// is the encoding AppendJSON writes of the value, byte for byte: compact,
// its strings without escapes or invalid UTF-8, no member twice. A caller
// that needs the value and its encoding (the engine, given a function's
// result or an execution's input) keeps text as the encoding when same is
// true, instead of encoding the value again.
//
// The strings of the value (members' names and values, numbers' text) are
// text's own substrings when text is at most SharedTextBytes long, so
// they cost no copy; a longer text's are copies, so that a small part of
// it kept does not keep the whole.
func DecodeJSONText(text string) (v any, same bool, err error) {
	if !jsonvalid.ValidString(text) {
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, false, fmt.Errorf("invalid JSON: %w", err)
		}
		return nil, false, errors.New("invalid JSON")
	}
	if len(text) > SharedTextBytes {
		return decodeJSON([]byte(text))
	}
	d := jsonDecoder[string]{data: text}
	v, err = d.value(0)
	if err != nil {
		return nil, false, err
	}
	return v, !d.altered && d.pos == len(text), nil
}

// SharedTextBytes is the longest text whose value DecodeJSONText makes of
// its substrings.
const SharedTextBytes = 4096

// validUTF8 and hasBackslash are utf8.Valid and a search for a backslash,
// for the bytes or the string a jsonDecoder reads.
func validUTF8[T []byte | string](s T) bool {
	switch s := any(s).(type) {
	case string:
		return utf8.ValidString(s)
	case []byte:
		return utf8.Valid(s)
	}
	return false
}

func hasBackslash[T []byte | string](s T) bool {
	switch s := any(s).(type) {
	case string:
		return strings.IndexByte(s, '\\') >= 0
	case []byte:
		return bytes.IndexByte(s, '\\') >= 0
	}
	return false
}
