package task

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// canonical writes the JSON value of data in one canonical text: object
// members sorted by name (bytewise), no insignificant space, strings
// escaped as encoding/json escapes them (without HTML escapes), numbers
// as plain decimals without an exponent, a trailing fractional zero or a
// negative zero. Two texts of the same value have the same canonical
// text, whatever the member order, escapes and number forms of each.
//
// It reports false when data is not one JSON value.
//
// The text of a message's data is not stable across deliveries: a store
// that keeps JSON as PostgreSQL's jsonb gives it back with its members
// reordered (shorter names first), its strings re-escaped and its
// numbers rewritten, so a message sent again from a stored copy differs
// from the first in text while its value is the same.
func canonical(buf *bytes.Buffer, data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false
	}
	if _, err := dec.Token(); err == nil {
		return false // more than one value
	}
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return writeCanonical(buf, enc, v)
}

func writeCanonical(buf *bytes.Buffer, enc *json.Encoder, v any) bool {
	switch v := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(v))
		for name := range v {
			names = append(names, name)
		}
		slices.Sort(names)
		buf.WriteByte('{')
		for i, name := range names {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !writeString(buf, enc, name) {
				return false
			}
			buf.WriteByte(':')
			if !writeCanonical(buf, enc, v[name]) {
				return false
			}
		}
		buf.WriteByte('}')
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if !writeCanonical(buf, enc, item) {
				return false
			}
		}
		buf.WriteByte(']')
	case string:
		return writeString(buf, enc, v)
	case json.Number:
		buf.WriteString(canonicalNumber(string(v)))
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case nil:
		buf.WriteString("null")
	default:
		return false
	}
	return true
}

// writeString writes s as encoding/json does without HTML escapes (the
// encoder's trailing newline dropped).
func writeString(buf *bytes.Buffer, enc *json.Encoder, s string) bool {
	if err := enc.Encode(s); err != nil {
		return false
	}
	buf.Truncate(buf.Len() - 1)
	return true
}

// maxShift bounds the exponent canonicalNumber expands; a number with a
// larger one keeps its text (no store rewrites such a number, and its
// expansion would be huge).
const maxShift = 400

// canonicalNumber writes a JSON number as a plain decimal: "1e2", "100"
// and "100.0" are all "100"; "-0" is "0"; "1.50" is "1.5".
func canonicalNumber(n string) string {
	neg := strings.HasPrefix(n, "-")
	rest := strings.TrimPrefix(n, "-")
	mantissa, expText, hasExp := strings.Cut(strings.ToLower(rest), "e")
	exp := 0
	if hasExp {
		e, err := strconv.Atoi(expText)
		if err != nil || e > maxShift || e < -maxShift {
			return n
		}
		exp = e
	}
	intPart, fracPart, _ := strings.Cut(mantissa, ".")
	digits := intPart + fracPart
	point := len(intPart) + exp // the decimal point's place in digits
	switch {
	case point < 0:
		digits = strings.Repeat("0", -point) + digits
		point = 0
	case point > len(digits):
		digits += strings.Repeat("0", point-len(digits))
	}
	whole := strings.TrimLeft(digits[:point], "0")
	frac := strings.TrimRight(digits[point:], "0")
	if whole == "" {
		whole = "0"
	}
	out := whole
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}
