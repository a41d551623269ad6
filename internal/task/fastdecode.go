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
	var seen uint8
	ok := r.object(func(key string) bool {
		var bit uint8
		var ok bool
		switch key {
		case "version":
			bit = 1
			m.Version, ok = r.int()
		case "taskToken":
			bit = 2
			m.TaskToken, ok = r.str()
		case "execution":
			bit = 4
			ok = r.execution(&m.Execution)
		case "step":
			bit = 8
			ok = r.step(&m.Step)
		case "spec":
			bit = 16
			m.Spec, ok = r.raw()
		case "data":
			bit = 32
			m.Data, ok = r.raw()
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
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
	var seen uint8
	return r.object(func(key string) bool {
		var bit uint8
		var ok bool
		switch key {
		case "id":
			bit = 1
			e.ID, ok = r.str()
		case "name":
			bit = 2
			e.Name, ok = r.str()
		case "startTime":
			bit = 4
			e.StartTime, ok = r.str()
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}

// step reads the message's step.
func (r *fastReader) step(s *Step) bool {
	var seen uint8
	return r.object(func(key string) bool {
		var bit uint8
		var ok bool
		switch key {
		case "id":
			bit = 1
			s.ID, ok = r.str()
		case "kind":
			bit = 2
			s.Kind, ok = r.str()
		case "attempt":
			bit = 4
			s.Attempt, ok = r.int()
		case "enteredTime":
			bit = 8
			s.EnteredTime, ok = r.str()
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		return true
	})
}
