// Package textgate is the one check of text at aiflow's edges: every
// string that arrives from outside (an HTTP body, path segment, query
// parameter or header, an SQS task message, an MCP tool's arguments, a
// Step Functions API request) passes it before anything stores or runs
// it. It refuses what PostgreSQL refuses or what encoding/json would
// silently change:
//
//   - NUL (U+0000), raw or escaped as \u0000: PostgreSQL's text and jsonb
//     cannot hold it;
//   - invalid UTF-8: encoding/json replaces each bad byte with U+FFFD;
//   - lone surrogates: a \ud800-style escape without its pair (or a low
//     one without a high one), which encoding/json replaces with U+FFFD,
//     and surrogates encoded in UTF-8 (CESU-8), which are invalid UTF-8.
//
// String checks a string; JSON checks a raw JSON document, escapes and
// all, and names the flaw's place with a JSON pointer (RFC 6901). Clean
// is for text meant for people only: it replaces what String refuses. Their
// *Error never quotes the text it refuses, so it can be logged, stored
// and shown to the caller as it is. The package imports nothing of aiflow
// and does no I/O, so every edge can import it.
package textgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// Flaw is what is wrong with a text.
type Flaw string

// The flaws the gate refuses.
const (
	// FlawNUL is a U+0000 character, raw or escaped.
	FlawNUL Flaw = "NUL"
	// FlawInvalidUTF8 is a byte sequence that is not UTF-8.
	FlawInvalidUTF8 Flaw = "invalid UTF-8"
	// FlawLoneSurrogate is a UTF-16 surrogate without its pair, escaped in
	// JSON (\ud800) or encoded in UTF-8 (CESU-8).
	FlawLoneSurrogate Flaw = "lone surrogate"
)

// Describe says what a flaw is, for messages: "a NUL character (U+0000)".
func (f Flaw) Describe() string {
	switch f {
	case FlawNUL:
		return "a NUL character (U+0000)"
	case FlawInvalidUTF8:
		return "bytes that are not UTF-8"
	default:
		return "a lone UTF-16 surrogate"
	}
}

// Error is a text the gate refuses.
type Error struct {
	// Flaw is what is wrong.
	Flaw Flaw
	// Pointer is, for JSON, the JSON pointer (RFC 6901) of the string that
	// holds the flaw: a value, or with InKey the object whose member's key
	// holds it. Every key in it is clean. Empty for String, and for the
	// document's root.
	Pointer string
	// InKey says the flaw is in an object member's key, not in a value.
	InKey bool
	// Offset is the flaw's byte offset in the text checked.
	Offset int
}

// Error says what and where, without the text itself.
func (e *Error) Error() string {
	return e.Where() + " holds " + e.Flaw.Describe() + " at byte " + strconv.Itoa(e.Offset)
}

// Where names the place of the flaw in words: "/a/b", "a key of /a",
// "the text".
func (e *Error) Where() string {
	switch {
	case e.InKey && e.Pointer == "":
		return "a key of the root object"
	case e.InKey:
		return "a key of " + e.Pointer
	case e.Pointer == "":
		return "the text"
	default:
		return e.Pointer
	}
}

// String checks s: it returns a *Error (Offset into s, no Pointer) for its
// first NUL, invalid UTF-8 or UTF-8-encoded surrogate, or nil.
func String(s string) error {
	if f, at, ok := scan(s); !ok {
		return &Error{Flaw: f, Offset: at}
	}
	return nil
}

// Valid reports whether s passes String.
func Valid(s string) bool {
	_, _, ok := scan(s)
	return ok
}

// Clean returns s with each flaw String would refuse replaced by U+FFFD:
// for text meant for people (a failure's cause, a log line) that must be
// stored but need not be exact, where refusing would lose the message.
// Data is refused, never cleaned.
func Clean(s string) string {
	if Valid(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == 0 {
			r = utf8.RuneError
		}
		b.WriteRune(r)
		i += n
	}
	return b.String()
}

// scan finds the first flaw of s.
func scan(s string) (Flaw, int, bool) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == 0 {
				return FlawNUL, i, false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			// 0xED 0xA0-0xBF starts a surrogate encoded in UTF-8.
			if c == 0xED && i+1 < len(s) && s[i+1] >= 0xA0 && s[i+1] <= 0xBF {
				return FlawLoneSurrogate, i, false
			}
			return FlawInvalidUTF8, i, false
		}
		i += n
	}
	return "", 0, true
}

// JSON checks a raw JSON document: the raw bytes of every string, key or
// value, and the escapes in them. It returns a *Error naming the first
// flaw's place, or nil. A document that is not JSON is not the gate's to
// judge: JSON returns an error that is not a *Error (it wraps the JSON
// decoder's) when it finds no flaw before the syntax breaks, so a caller
// that parses the document afterwards reports its own syntax error.
func JSON(data []byte) error {
	if plain(data) {
		return nil
	}
	return walkJSON(data)
}

// walkJSON is JSON's reading of a document that may have a flaw, token by
// token.
func walkJSON(data []byte) error {
	w := walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	return w.walk()
}

// plain reports whether data surely has no flaw for JSON to find and is one
// JSON value: no NUL byte, valid UTF-8 (which has no surrogates), no \u
// escape that may be of a NUL or a surrogate (\u0000, \uD...), and valid
// JSON. Most documents are plain, and this is read at memory speed where
// the walk decodes every token (TestPlainDocumentsPassTheWalk,
// FuzzPlainIsTheWalk).
func plain(data []byte) bool {
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return false
	}
	for rest := data; ; {
		i := bytes.Index(rest, []byte(`\u`))
		if i < 0 {
			break
		}
		e := rest[i+2:]
		if len(e) < 4 || e[0] == 'd' || e[0] == 'D' || string(e[:4]) == "0000" {
			return false
		}
		rest = e
	}
	return jsonvalid.Valid(data)
}

// ValidJSON reports whether data has no flaw JSON finds. It does not say
// whether data is JSON.
func ValidJSON(data []byte) bool {
	var e *Error
	return !errors.As(JSON(data), &e)
}

// walker walks a document's tokens with encoding/json, which keeps track
// of the syntax, and checks each string's raw bytes between the decoder's
// offsets.
type walker struct {
	data  []byte
	dec   *json.Decoder
	stack []frame
}

// frame is an open object or array.
type frame struct {
	object bool
	atKey  bool   // an object's next token is a key
	key    string // an object's current key
	index  int    // an array's current index
}

// pointer is the JSON pointer of the first n open frames' current
// members.
func (w *walker) pointer(n int) string {
	var b strings.Builder
	for _, f := range w.stack[:n] {
		b.WriteByte('/')
		if f.object {
			b.WriteString(strings.ReplaceAll(strings.ReplaceAll(f.key, "~", "~0"), "/", "~1"))
		} else {
			b.WriteString(strconv.Itoa(f.index))
		}
	}
	return b.String()
}

func (w *walker) walk() error {
	// Bytes outside strings are JSON's own (ASCII), or the decoder's
	// syntax error: only strings need the gate's reading.
	for {
		start := w.dec.InputOffset()
		tok, err := w.dec.Token()
		top := len(w.stack) - 1
		isKey := top >= 0 && w.stack[top].object && w.stack[top].atKey
		if err == io.EOF {
			if top >= 0 {
				return fmt.Errorf("reading the JSON document: %w", io.ErrUnexpectedEOF)
			}
			return nil
		}
		if err != nil {
			// A raw NUL in a string is a syntax error: name it, and any
			// flaw of the string the decoder stopped in.
			if e := w.checkString(int(start), len(w.data), isKey); e != nil {
				return e
			}
			return fmt.Errorf("reading the JSON document: %w", err)
		}
		end := w.dec.InputOffset()
		isKey = isKey && tok != json.Delim('}')
		if s, ok := tok.(string); ok {
			if e := w.checkString(int(start), int(end), isKey); e != nil {
				return e
			}
			if isKey {
				w.stack[top].key = s
				w.stack[top].atKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			w.stack = append(w.stack, frame{object: tok == json.Delim('{'), atKey: tok == json.Delim('{')})
			continue
		case json.Delim('}'), json.Delim(']'):
			w.stack = w.stack[:top]
		}
		if n := len(w.stack); n > 0 {
			if f := &w.stack[n-1]; f.object {
				f.atKey = true
			} else {
				f.index++
			}
		}
	}
}

// checkString checks the raw text of a string token, which lies in
// data[start:end] after separators and whitespace.
func (w *walker) checkString(start, end int, isKey bool) *Error {
	raw := w.data[start:end]
	q := bytes.IndexByte(raw, '"')
	if q < 0 {
		return nil
	}
	f, at, ok := scanJSONString(raw[q:])
	if ok {
		return nil
	}
	if !isKey {
		return &Error{Flaw: f, Pointer: w.pointer(len(w.stack)), Offset: start + q + at}
	}
	// The key's own pointer would hold the flaw: name its object.
	return &Error{Flaw: f, Pointer: w.pointer(len(w.stack) - 1), InKey: true, Offset: start + q + at}
}

// scanJSONString finds the first flaw in a quoted JSON string's raw text
// (from its opening quote to its closing one), counting escapes: \u0000
// is a NUL, a \uD800-\uDBFF not followed by a \uDC00-\uDFFF and a
// \uDC00-\uDFFF not preceded by one are lone surrogates.
func scanJSONString(raw []byte) (Flaw, int, bool) {
	for i := 1; i < len(raw); {
		c := raw[i]
		switch {
		case c == '"':
			return "", 0, true
		case c == '\\':
			if i+1 >= len(raw) {
				return "", 0, true
			}
			if raw[i+1] != 'u' {
				i += 2
				continue
			}
			r, ok := hex4(raw, i+2)
			if !ok {
				return "", 0, true // the decoder's syntax error
			}
			switch {
			case r == 0:
				return FlawNUL, i, false
			case r >= 0xDC00 && r <= 0xDFFF:
				return FlawLoneSurrogate, i, false
			case r >= 0xD800 && r <= 0xDBFF:
				if i+7 < len(raw) && raw[i+6] == '\\' && raw[i+7] == 'u' {
					if lo, ok := hex4(raw, i+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						i += 12
						continue
					}
				}
				return FlawLoneSurrogate, i, false
			}
			i += 6
		case c < utf8.RuneSelf:
			if c == 0 {
				return FlawNUL, i, false
			}
			i++
		default:
			r, n := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && n == 1 {
				if c == 0xED && i+1 < len(raw) && raw[i+1] >= 0xA0 && raw[i+1] <= 0xBF {
					return FlawLoneSurrogate, i, false
				}
				return FlawInvalidUTF8, i, false
			}
			i += n
		}
	}
	return "", 0, true
}

// hex4 reads the four hex digits at raw[i:].
func hex4(raw []byte, i int) (rune, bool) {
	if i+4 > len(raw) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(raw[i:i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}
