package eventstore

import (
	"bytes"
	"unicode/utf8"
)

// maxCanonicalDepth bounds how deeply isCanonicalObject follows nested
// values; deeper documents take canonicalObject's path.
const maxCanonicalDepth = 200

// isCanonicalObject reports whether raw is already exactly what
// canonicalObject would return for it: one JSON object, no whitespace
// outside strings, object keys in strictly increasing byte order (so no key
// twice), strings written the way encoding/json writes them without HTML
// escaping, and no \u0000. It decodes nothing and allocates nothing, so an
// event whose data is canonical already (what services that marshal Go
// values send) skips the decode and re-encode.
//
// It is conservative: a false answer only means canonicalObject decides,
// with its own errors. Keys holding an escape, deep nesting, and any escape
// encoding/json would not write take that path.
func isCanonicalObject(raw []byte) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	c := canonicalScanner{b: raw}
	return c.object(0) && c.i == len(raw)
}

type canonicalScanner struct {
	b []byte
	i int
}

func (c *canonicalScanner) value(depth int) bool {
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

func (c *canonicalScanner) literal(lit string) bool {
	if !bytes.HasPrefix(c.b[c.i:], []byte(lit)) {
		return false
	}
	c.i += len(lit)
	return true
}

// object reads {"k":v,...} with keys in strictly increasing order.
func (c *canonicalScanner) object(depth int) bool {
	if depth > maxCanonicalDepth {
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

func (c *canonicalScanner) array(depth int) bool {
	if depth > maxCanonicalDepth {
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
func (c *canonicalScanner) str(escapes bool) ([]byte, bool) {
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
// characters but NUL, and \u2028, \u2029.
func (c *canonicalScanner) escape() bool {
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
func (c *canonicalScanner) number() bool {
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
