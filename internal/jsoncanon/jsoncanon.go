// Package jsoncanon recognises JSON objects that are already in the
// canonical form encoding/json writes for a decoded value (numbers kept
// as written, json.Number): no white space outside strings, object keys
// in strictly increasing byte order, strings escaped exactly as
// encoding/json escapes them. A store that keeps such objects canonical
// (the audit log hashes them) can then skip the decode and re-encode of
// objects its callers marshalled from Go values already. It decodes
// nothing and allocates nothing.
package jsoncanon

import (
	"bytes"
	"unicode/utf8"
)

// maxDepth bounds how deeply IsObject follows nested values; deeper
// documents are not recognised.
const maxDepth = 200

// Form is a canonical form: encoding/json's, with or without its HTML
// escaping.
type Form struct {
	// EscapeHTML is true for json.Marshal's form, which writes <, > and
	// & as \u003c, \u003e and \u0026; false for an Encoder's with
	// SetEscapeHTML(false).
	EscapeHTML bool
}

// IsObject reports whether raw is exactly what encoding/json writes in
// form f for the object raw holds, decoded with UseNumber into a
// map[string]any: one JSON object, no white space outside strings, keys
// in strictly increasing byte order (so no key twice), strings written the
// way encoding/json writes them, and no \u0000.
//
// It is conservative: false only means the caller must decode and
// re-encode. Keys holding an escape, nesting deeper than 200 levels, a
// NUL and any escape encoding/json would not write all give false.
func (f Form) IsObject(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	c := scanner{b: raw, html: f.EscapeHTML}
	return c.object(0) && c.i == len(raw)
}

type scanner struct {
	b    []byte
	i    int
	html bool // <, > and & are written as \u003c, \u003e, \u0026
}

func (c *scanner) value(depth int) bool {
	if c.i >= len(c.b) {
		return false
	}
	switch b := c.b[c.i]; {
	case b == '{':
		return c.object(depth + 1)
	case b == '[':
		return c.array(depth + 1)
	case b == '"':
		_, ok := c.str(true)
		return ok
	case b == '-' || (b >= '0' && b <= '9'):
		return c.number()
	case b == 't':
		return c.literal("true")
	case b == 'f':
		return c.literal("false")
	case b == 'n':
		return c.literal("null")
	}
	return false
}

func (c *scanner) literal(lit string) bool {
	if !bytes.HasPrefix(c.b[c.i:], []byte(lit)) {
		return false
	}
	c.i += len(lit)
	return true
}

// object reads {"k":v,...} with keys in strictly increasing order.
func (c *scanner) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	c.i++ // '{'
	if c.i < len(c.b) && c.b[c.i] == '}' {
		c.i++
		return true
	}
	var prev []byte
	for first := true; ; first = false {
		if c.i >= len(c.b) || c.b[c.i] != '"' {
			return false
		}
		key, ok := c.str(false)
		if !ok || (!first && bytes.Compare(prev, key) >= 0) {
			return false
		}
		prev = key
		if c.i >= len(c.b) || c.b[c.i] != ':' {
			return false
		}
		c.i++
		if !c.value(depth) {
			return false
		}
		if c.i >= len(c.b) {
			return false
		}
		switch c.b[c.i] {
		case ',':
			c.i++
		case '}':
			c.i++
			return true
		default:
			return false
		}
	}
}

func (c *scanner) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	c.i++ // '['
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		return true
	}
	for {
		if !c.value(depth) {
			return false
		}
		if c.i >= len(c.b) {
			return false
		}
		switch c.b[c.i] {
		case ',':
			c.i++
		case ']':
			c.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string and returns its raw content. With escapes false (a
// key) any escape makes it not canonical, so that keys compare as raw
// bytes.
func (c *scanner) str(escapes bool) ([]byte, bool) {
	c.i++ // '"'
	start := c.i
	for c.i < len(c.b) {
		b := c.b[c.i]
		switch {
		case b == '"':
			s := c.b[start:c.i]
			c.i++
			return s, true
		case b == '\\':
			if !escapes || !c.escape() {
				return nil, false
			}
		case b < 0x20:
			return nil, false
		case c.html && (b == '<' || b == '>' || b == '&'):
			return nil, false // escaped when writing HTML-safe JSON
		case b < utf8.RuneSelf:
			c.i++
		default:
			r, size := utf8.DecodeRune(c.b[c.i:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				return nil, false // encoding/json writes \ufffd, \u2028, \u2029
			}
			c.i += size
		}
	}
	return nil, false
}

// escape reads one escape, accepting only those encoding/json writes:
// \" \\ \b \f \n \r \t, \u00xx (lower-case hex) for the other control
// characters but NUL, \u2028, \u2029, and when writing HTML-safe JSON
// \u003c, \u003e and \u0026.
func (c *scanner) escape() bool {
	if c.i+1 >= len(c.b) {
		return false
	}
	switch c.b[c.i+1] {
	case '"', '\\', 'b', 'f', 'n', 'r', 't':
		c.i += 2
		return true
	case 'u':
	default:
		return false
	}
	if c.i+6 > len(c.b) {
		return false
	}
	h := c.b[c.i+2 : c.i+6]
	switch {
	case string(h) == "2028" || string(h) == "2029":
	case c.html && (string(h) == "003c" || string(h) == "003e" || string(h) == "0026"):
	case h[0] == '0' && h[1] == '0' && (h[2] == '0' || h[2] == '1') && isLowerHex(h[3]):
		switch v := (h[2]-'0')<<4 | hexValue(h[3]); v {
		case 0, '\b', '\f', '\n', '\r', '\t':
			return false // NUL is refused; the others have short escapes
		}
	default:
		return false
	}
	c.i += 6
	return true
}

func isLowerHex(b byte) bool { return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') }

func hexValue(b byte) byte {
	if b <= '9' {
		return b - '0'
	}
	return b - 'a' + 10
}

// number reads a JSON number, which encoding/json keeps as written
// (json.Number).
func (c *scanner) number() bool {
	b := c.b
	i := c.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	c.i = i
	return true
}
