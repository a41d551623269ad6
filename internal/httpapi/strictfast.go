package httpapi

import (
	"bytes"

	"github.com/aiflow/aiflow/internal/jsonvalid"
)

// strictFast reports whether checkJSON surely passes data: one JSON value
// (jsonvalid, which answers as encoding/json does), nested no deeper than
// MaxDepth, no object with a key twice. It decodes nothing and, for
// objects of up to 32 keys at a time, allocates nothing, where checkJSON
// walks encoding/json's tokens, which cost a start more than its engine's
// bookkeeping of the input. It only compares keys as sent, so a key with
// an escape (two spellings of one key) gives false; so does text the gate
// refuses, which checkBodyText reports first. False means checkJSON
// decides, with its errors.
func strictFast(data []byte) bool {
	if !jsonvalid.Valid(data) {
		return false
	}
	type span struct{ start, end int }
	var (
		keyBuf   [32]span
		keys     = keyBuf[:0] // the keys of the open objects, innermost last
		frameBuf [MaxDepth]int
		frames   = frameBuf[:0] // where each open container's keys start in keys
	)
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(frames) == MaxDepth {
				return false
			}
			frames = append(frames, len(keys))
		case '}', ']':
			keys = keys[:frames[len(frames)-1]]
			frames = frames[:len(frames)-1]
		case '"':
			start := i + 1
			escaped := false
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					escaped = true
					i++
				}
			}
			// In valid JSON, a string followed by a colon is a key.
			j := i + 1
			for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
				j++
			}
			if j == len(data) || data[j] != ':' {
				continue
			}
			if escaped {
				return false
			}
			key := data[start:i]
			for _, k := range keys[frames[len(frames)-1]:] {
				if bytes.Equal(data[k.start:k.end], key) {
					return false
				}
			}
			keys = append(keys, span{start, i})
		}
	}
	return true
}

// decodeStartFast reads the body of a start, {"input": …} or {}, into
// req when it is one decodeStrict surely passes: the text gate passes it,
// strictFast does, and its root object holds no key but input. It reports
// false for every other body, which decodeStrict then reads, with its
// errors.
func decodeStartFast(data []byte, req *startRequest) bool {
	if checkBodyText(data) != nil || !strictFast(data) {
		return false
	}
	i := skipJSONSpace(data, 0)
	if data[i] != '{' {
		return false
	}
	i = skipJSONSpace(data, i+1)
	if data[i] == '}' {
		return skipJSONSpace(data, i+1) == len(data)
	}
	const key = `"input"`
	if !bytes.HasPrefix(data[i:], []byte(key)) {
		return false
	}
	i = skipJSONSpace(data, i+len(key))
	if data[i] != ':' {
		return false
	}
	start := skipJSONSpace(data, i+1)
	// The value runs to the root object's end: strictFast found no
	// second input, and any other key is refused above.
	end := bytes.LastIndexByte(data, '}')
	for end > start && isJSONSpace(data[end-1]) {
		end--
	}
	value := data[start:end:end]
	if !jsonvalid.Valid(value) {
		return false // a second member after the value
	}
	req.Input = value
	return true
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
