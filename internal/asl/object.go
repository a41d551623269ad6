package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// Object is a JSON object that keeps its members in order: the order of
// the document it was decoded from, then members added at the end.
// Step Functions keeps that order through a state machine (a Pass state's
// Result, a payload template's output, an input passed through, a
// ResultPath that adds a member), so the engine's values hold objects as
// *Object, and DecodeJSON and EncodeJSON read and write them. Setting a
// member that exists keeps its place.
//
// Readers of decoded values (Lookup, ApplyTemplate, the intrinsic
// functions) also accept map[string]any, whose members they visit in
// sorted key order.
type Object struct {
	keys  []string
	vals  []any
	index map[string]int // built once an object outgrows a linear search
}

// indexAbove is the size from which an Object keeps a map of its keys.
const indexAbove = 8

// NewObject returns an empty object with room for n members.
func NewObject(n int) *Object {
	if n > 0 && n <= smallObject {
		// The object and its room in one allocation, where three would be
		// made for the few members most objects have.
		p := new(objectWithRoom)
		p.o.keys, p.o.vals = p.keys[:0], p.vals[:0]
		return &p.o
	}
	return &Object{keys: make([]string, 0, n), vals: make([]any, 0, n)}
}

// smallObject is the room NewObject gives an object with its allocation.
const smallObject = 4

// objectWithRoom is an Object and the room for its first members.
type objectWithRoom struct {
	o    Object
	keys [smallObject]string
	vals [smallObject]any
}

// Len returns the number of members.
func (o *Object) Len() int { return len(o.keys) }

// Keys returns the member names in order. The caller must not modify the
// slice.
func (o *Object) Keys() []string { return o.keys }

// All yields the members in order.
func (o *Object) All() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		for i, k := range o.keys {
			if !yield(k, o.vals[i]) {
				return
			}
		}
	}
}

func (o *Object) find(key string) int {
	if o.index != nil {
		if i, ok := o.index[key]; ok {
			return i
		}
		return -1
	}
	return slices.Index(o.keys, key)
}

// Get returns the value of member key and whether there is one.
func (o *Object) Get(key string) (any, bool) {
	if i := o.find(key); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

// Set sets member key to v: in its place when the object has it, at the
// end otherwise.
func (o *Object) Set(key string, v any) {
	if i := o.find(key); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, key)
	o.vals = append(o.vals, v)
	switch {
	case o.index != nil:
		o.index[key] = len(o.keys) - 1
	case len(o.keys) > indexAbove:
		o.index = make(map[string]int, len(o.keys)*2)
		for i, k := range o.keys {
			o.index[k] = i
		}
	}
}

// MarshalJSON writes the object as compact JSON, members in order.
func (o *Object) MarshalJSON() ([]byte, error) {
	return AppendJSON(nil, o)
}

// UnmarshalJSON reads a JSON object, keeping the order of its members.
func (o *Object) UnmarshalJSON(data []byte) error {
	v, err := DecodeJSON(data)
	if err != nil {
		return err
	}
	obj, ok := v.(*Object)
	if !ok {
		return fmt.Errorf("decoding an object: the JSON value is %s", JSONTypeName(v))
	}
	*o = *obj
	return nil
}

// AsObject returns v as an *Object when it is a JSON object: an *Object
// itself, or a map[string]any, copied with its keys in sorted order.
func AsObject(v any) (*Object, bool) {
	switch t := v.(type) {
	case *Object:
		return t, t != nil
	case map[string]any:
		o := NewObject(len(t))
		for _, k := range sortedKeys(t) {
			o.Set(k, t[k])
		}
		return o, true
	}
	return nil, false
}

// Plain returns v with its objects as map[string]any, as encoding/json
// decodes them, for a library that takes such values (their member order
// is lost); arrays are copied, other values returned as they are.
func Plain(v any) any {
	switch t := v.(type) {
	case *Object:
		m := make(map[string]any, t.Len())
		for k, e := range t.All() {
			m[k] = Plain(e)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = Plain(e)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = Plain(e)
		}
		return a
	}
	return v
}

// DecodeJSON decodes one JSON text into the values the engine works on:
// objects as *Object in document order, arrays as []any, numbers as
// json.Number with their text as written, strings, booleans and nil.
// A member that appears twice keeps its first place and its last value,
// as encoding/json keeps the last value. Trailing data is an error.
func DecodeJSON(data []byte) (any, error) {
	v, _, err := decodeJSON(data)
	return v, err
}

// decodeJSON is DecodeJSON; same reports whether AppendJSON writes the
// value back as data, byte for byte (see DecodeJSONText).
func decodeJSON(data []byte) (v any, same bool, err error) {
	if !jsonvalid.Valid(data) {
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			return nil, false, fmt.Errorf("invalid JSON: %w", err)
		}
		return nil, false, errors.New("invalid JSON")
	}
	d := jsonDecoder[[]byte]{data: data}
	v, err = d.value(0)
	if err != nil {
		return nil, false, err
	}
	return v, !d.altered && d.pos == len(data), nil
}

// jsonDecoder reads a JSON text that jsonvalid accepted, as bytes or as
// a string (whose substrings the values it reads then are).
type jsonDecoder[T []byte | string] struct {
	data T
	pos  int
	// altered is set when the text holds what AppendJSON would not write
	// of the value read: white space, an escape, a member twice.
	altered bool
}

func (d *jsonDecoder[T]) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
			d.altered = true
		default:
			return
		}
	}
}

func (d *jsonDecoder[T]) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("invalid JSON: it nests more than %d levels deep", maxDepth)
	}
	d.space()
	switch c := d.data[d.pos]; {
	case c == '{':
		d.pos++
		o := NewObject(4)
		d.space()
		if d.data[d.pos] == '}' {
			d.pos++
			return o, nil
		}
		for {
			d.space()
			key, err := d.str()
			if err != nil {
				return nil, err
			}
			d.space()
			d.pos++ // ':'
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n := len(o.keys)
			if o.Set(key, v); len(o.keys) == n {
				d.altered = true // the member was there: its last value is kept
			}
			d.space()
			c := d.data[d.pos]
			d.pos++
			if c == '}' {
				return o, nil
			}
		}
	case c == '[':
		d.pos++
		a := []any{}
		d.space()
		if d.data[d.pos] == ']' {
			d.pos++
			return a, nil
		}
		for {
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
			d.space()
			c := d.data[d.pos]
			d.pos++
			if c == ']' {
				return a, nil
			}
		}
	case c == '"':
		return d.str()
	case c == 't':
		d.pos += 4
		return true, nil
	case c == 'f':
		d.pos += 5
		return false, nil
	case c == 'n':
		d.pos += 4
		return nil, nil
	default:
		start := d.pos
		for d.pos < len(d.data) {
			switch d.data[d.pos] {
			case '-', '+', '.', 'e', 'E', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				d.pos++
				continue
			}
			break
		}
		return json.Number(d.data[start:d.pos]), nil
	}
}

// str reads a string at d.pos; it decodes escapes, and invalid UTF-8,
// as encoding/json does.
func (d *jsonDecoder[T]) str() (string, error) {
	start := d.pos
	d.pos++
	plain := true
	for {
		c := d.data[d.pos]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			d.pos++
		} else if c >= utf8.RuneSelf {
			plain = false
		}
		d.pos++
	}
	d.pos++
	raw := d.data[start:d.pos]
	if plain || validUTF8(raw) && !hasBackslash(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return "", fmt.Errorf("invalid JSON: %w", err)
	}
	d.altered = true // an escape, or invalid UTF-8
	return s, nil
}

// EncodeJSON returns the compact JSON text of a value that DecodeJSON
// returns, or that is built of the same types (and map[string]any, whose
// members it writes in sorted key order). Numbers are written as their
// text; strings as Step Functions writes them: only the quote, the
// backslash and control characters escaped. A value of another Go type is
// written as encoding/json writes it.
func EncodeJSON(v any) (string, error) {
	b, err := AppendJSON(nil, v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// AppendJSON appends the compact JSON text of v to dst, as EncodeJSON
// writes it.
func AppendJSON(dst []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		return strconv.AppendBool(dst, t), nil
	case string:
		return appendJSONString(dst, t), nil
	case json.Number:
		if t == "" {
			return append(dst, '0'), nil
		}
		return append(dst, t...), nil
	case *Object:
		if t == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, '{')
		for i, k := range t.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = AppendJSON(dst, t.vals[i]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case map[string]any:
		dst = append(dst, '{')
		for i, k := range sortedKeys(t) {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = AppendJSON(dst, t[k]); err != nil {
				return nil, err
			}
		}
		return append(dst, '}'), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = AppendJSON(dst, e); err != nil {
				return nil, err
			}
		}
		return append(dst, ']'), nil
	case json.RawMessage:
		v, err := DecodeJSON(t)
		if err != nil {
			return nil, err
		}
		return AppendJSON(dst, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding %T as JSON: %w", v, err)
	}
	return append(dst, b...), nil
}

// plainJSONByte holds, for each byte, whether a JSON string holds it as it
// is in every case: ASCII other than the control characters, the quote and
// the backslash.
var plainJSONByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString appends s as a JSON string: the quote, the backslash
// and control characters escaped, everything else as it is (Jackson's
// default, which Step Functions' output shows), invalid UTF-8 as U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0 // the first byte not yet appended: runs that need no escape go in whole
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSONByte[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
