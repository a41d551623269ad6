package task

import (
	"strconv"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// decodeFast reads a message of the shape the compiler's template renders
// without reflection: one object holding only the members version (an
// integer), taskToken, execution and step (objects of their own fields,
// strings and an integer attempt), spec and data (any value), each once,
// with every key and string free of escapes. Every worker reads one
// message per task, and encoding/json's reflection over the envelope, its
// two nested objects and two copies of raw values cost the approvals
// worker more than storing the approval.
//
// It reports false for every other body, and for one that Decode would
// refuse; Decode then reads it the slow way (decodeReflect). For every
// body it reads, its Message is the one decodeReflect returns
// (FuzzDecodeFastIsDecodeReflect). Decode runs the text gate before it.
func decodeFast(body string) (Message, bool) {
	if !jsonvalid.ValidString(body) {
		return Message{}, false
	}
	r := fastReader{s: body}
	m := Message{Version: 1}
	ok := r.members(func(key string) (uint8, bool) {
		switch key {
		case "version":
			v, ok := r.int()
			m.Version = v
			return 1, ok
		case "taskToken":
			v, ok := r.str()
			m.TaskToken = v
			return 2, ok
		case "execution":
			return 4, r.execution(&m.Execution)
		case "step":
			return 8, r.step(&m.Step)
		case "spec":
			v, ok := r.raw()
			m.Spec = v
			return 16, ok
		case "data":
			v, ok := r.raw()
			m.Data = v
			return 32, ok
		}
		return 0, false
	})
	if !ok || r.space() != len(body) || m.Version != Version || m.TaskToken == "" || m.Step.ID == "" || m.Step.Kind == "" {
		return Message{}, false
	}
	return m, true
}

// fastReader reads decodeFast's subset of JSON from a text known to be
// valid JSON. Each method reports false for what it does not read.
type fastReader struct {
	s string
	i int
}

// space skips white space and returns where the next token starts.
func (r *fastReader) space() int {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return r.i
		}
	}
	return r.i
}

// next consumes the byte c, the next token's first.
func (r *fastReader) next(c byte) bool {
	if r.space() < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// object reads an object whose members member reads, called with each
// key once the colon after it is read.
func (r *fastReader) object(member func(key string) bool) bool {
	if !r.next('{') {
		return false
	}
	if r.next('}') {
		return true
	}
	for {
		key, ok := r.str()
		if !ok || !r.next(':') || !member(key) {
			return false
		}
		if r.next(',') {
			continue
		}
		return r.next('}')
	}
}

// members reads an object as object does, each member by member, which
// returns the member's bit (each key its own) and whether it read the
// value; an unknown key (bit 0), a value not read or a key seen before
// fail the object.
func (r *fastReader) members(member func(key string) (bit uint8, ok bool)) bool {
	var seen uint8
	return r.object(func(key string) bool {
		bit, ok := member(key)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// str reads a string without escapes; encoding/json gives its bytes as
// they are when they are valid UTF-8.
func (r *fastReader) str() (string, bool) {
	if !r.next('"') {
		return "", false
	}
	start, ascii := r.i, true
	for j := start; j < len(r.s); j++ {
		switch c := r.s[j]; {
		case c == '"':
			v := r.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			r.i = j + 1
			return v, true
		case c == '\\' || c < ' ':
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// int reads an integer without a fraction or an exponent that an int
// holds.
func (r *fastReader) int() (int, bool) {
	start := r.space()
	j := start
	if j < len(r.s) && r.s[j] == '-' {
		j++
	}
	digits := j
	for j < len(r.s) && r.s[j] >= '0' && r.s[j] <= '9' {
		j++
	}
	if j == digits || (j < len(r.s) && (r.s[j] == '.' || r.s[j] == 'e' || r.s[j] == 'E')) {
		return 0, false
	}
	n, err := strconv.Atoi(r.s[start:j])
	if err != nil {
		return 0, false
	}
	r.i = j
	return n, true
}

// raw reads any value but null and returns a copy of its text, as
// encoding/json fills a json.RawMessage.
func (r *fastReader) raw() ([]byte, bool) {
	start := r.space()
	if start == len(r.s) || r.s[start] == 'n' {
		return nil, false
	}
	depth := 0
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch c {
		case '"':
			r.i++
			for r.i < len(r.s) && r.s[r.i] != '"' {
				if r.s[r.i] == '\\' {
					r.i++
				}
				r.i++
			}
			r.i++
		case '{', '[':
			depth++
			r.i++
		case '}', ']':
			if depth == 0 {
				return []byte(r.s[start:r.i]), true // the end of a scalar
			}
			depth--
			r.i++
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return []byte(r.s[start:r.i]), true
			}
			r.i++
		default:
			r.i++
		}
		if depth == 0 && (c == '"' || c == '}' || c == ']') {
			return []byte(r.s[start:r.i]), true
		}
	}
	return []byte(r.s[start:r.i]), r.i == len(r.s) && depth == 0
}

// execution reads the message's execution.
func (r *fastReader) execution(e *Execution) bool {
	return r.members(func(key string) (uint8, bool) {
		switch key {
		case "id":
			v, ok := r.str()
			e.ID = v
			return 1, ok
		case "name":
			v, ok := r.str()
			e.Name = v
			return 2, ok
		case "startTime":
			v, ok := r.str()
			e.StartTime = v
			return 4, ok
		}
		return 0, false
	})
}

// step reads the message's step.
func (r *fastReader) step(s *Step) bool {
	return r.members(func(key string) (uint8, bool) {
		switch key {
		case "id":
			v, ok := r.str()
			s.ID = v
			return 1, ok
		case "kind":
			v, ok := r.str()
			s.Kind = v
			return 2, ok
		case "attempt":
			v, ok := r.int()
			s.Attempt = v
			return 4, ok
		case "enteredTime":
			v, ok := r.str()
			s.EnteredTime = v
			return 8, ok
		}
		return 0, false
	})
}
