package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds how deeply JSON values may nest, so that hostile input
// cannot recurse without end.
const maxDepth = 1000

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is a decoded JSON value that keeps what encoding/json throws away:
// the order of object members, and numbers exactly as written.
type node struct {
	kind nodeKind
	b    bool
	// text is a string's value or a number as written.
	text string
	// keys holds an object's member names; values its member values, or
	// an array's elements.
	keys   []string
	values []*node
}

// parseJSON decodes one JSON value, rejecting duplicate object keys and
// trailing data. Errors name where the problem is with a dotted path.
func parseJSON(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, "", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid JSON: unexpected data after the top-level value at offset %d", dec.InputOffset())
	}
	return n, nil
}

func readNode(dec *json.Decoder, path string, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: JSON nests more than %d levels deep", where(path), maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("invalid JSON: unexpected end of input")
		}
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return &node{kind: kindNull}, nil
	case bool:
		return &node{kind: kindBool, b: t}, nil
	case json.Number:
		return &node{kind: kindNumber, text: string(t)}, nil
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Delim:
		switch t {
		case '[':
			n := &node{kind: kindArray}
			for dec.More() {
				v, err := readNode(dec, fmt.Sprintf("%s[%d]", path, len(n.values)), depth+1)
				if err != nil {
					return nil, err
				}
				n.values = append(n.values, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return n, nil
		case '{':
			n := &node{kind: kindObject}
			seen := map[string]bool{}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("invalid JSON: %w", err)
				}
				key, ok := tok.(string)
				if !ok {
					return nil, fmt.Errorf("invalid JSON: object key is %v, not a string", tok)
				}
				if seen[key] {
					return nil, fmt.Errorf("%s: duplicate key %q", where(path), key)
				}
				seen[key] = true
				v, err := readNode(dec, joinPath(path, key), depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.values = append(n.values, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			return n, nil
		}
	}
	return nil, fmt.Errorf("invalid JSON: unexpected token %v", tok)
}

// where names a location for an error message; the empty path is the
// document itself.
func where(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// joinPath appends an object key to a dotted path, bracketing keys that
// would read ambiguously.
func joinPath(path, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r == '$' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// member returns the value of an object member, or nil.
func (n *node) member(key string) *node {
	for i, k := range n.keys {
		if k == key {
			return n.values[i]
		}
	}
	return nil
}

// encode writes n as compact JSON with object keys sorted.
func (n *node) encode(buf *bytes.Buffer) { n.write(buf, true) }

// encodeInOrder writes n as compact JSON with object keys in the order of
// the document, which is the order Step Functions writes a template's or a
// Result's output in.
func (n *node) encodeInOrder(buf *bytes.Buffer) { n.write(buf, false) }

func (n *node) write(buf *bytes.Buffer, sorted bool) {
	switch n.kind {
	case kindNull:
		buf.WriteString("null")
	case kindBool:
		buf.WriteString(strconv.FormatBool(n.b))
	case kindNumber:
		buf.WriteString(n.text)
	case kindString:
		writeString(buf, n.text)
	case kindArray:
		buf.WriteByte('[')
		for i, v := range n.values {
			if i > 0 {
				buf.WriteByte(',')
			}
			v.write(buf, sorted)
		}
		buf.WriteByte(']')
	case kindObject:
		order := make([]int, len(n.keys))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			if !sorted {
				return a - b
			}
			switch {
			case n.keys[a] < n.keys[b]:
				return -1
			case n.keys[a] > n.keys[b]:
				return 1
			}
			return 0
		})
		buf.WriteByte('{')
		for i, j := range order {
			if i > 0 {
				buf.WriteByte(',')
			}
			writeString(buf, n.keys[j])
			buf.WriteByte(':')
			n.values[j].write(buf, sorted)
		}
		buf.WriteByte('}')
	}
}

// canonicalJSON rewrites raw as compact JSON with object keys sorted at
// every level and numbers kept as written.
func canonicalJSON(raw []byte) ([]byte, error) {
	n, err := parseJSON(raw)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	n.encode(&buf)
	return buf.Bytes(), nil
}

// writeString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone, which keeps definitions readable.
func writeString(buf *bytes.Buffer, s string) {
	const hex = "0123456789abcdef"
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case c == '\n':
				buf.WriteString(`\n`)
			case c == '\r':
				buf.WriteString(`\r`)
			case c == '\t':
				buf.WriteString(`\t`)
			case c == '\b':
				buf.WriteString(`\b`)
			case c == '\f':
				buf.WriteString(`\f`)
			case c < 0x20:
				buf.WriteString(`\u00`)
				buf.WriteByte(hex[c>>4])
				buf.WriteByte(hex[c&0xf])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf.WriteString(`\ufffd`)
		case r == '\u2028':
			buf.WriteString(`\u2028`)
		case r == '\u2029':
			buf.WriteString(`\u2029`)
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}
