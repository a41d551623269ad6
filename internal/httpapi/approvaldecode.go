package httpapi

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// decodeApprovalFast reads an approval message's spec and data when they
// are compact objects as the engine renders them ({"approvers":["…",…],
// "timeout_seconds":60} and {"message":"…"}), their keys and the strings
// read without escapes: encoding/json's reflection over these two small
// objects cost the approvals worker more than the rest of the message's
// decoding. Members of other names are skipped, as encoding/json skips
// them. It reports false for anything else (white space, null, a name
// given twice or matching one read only regardless of case), which
// decodeApproval reads with json.Unmarshal, with its errors; what it
// reads, json.Unmarshal reads the same (TestDecodeApprovalFastIsUnmarshal).
// spec and data come from a task message, which is valid JSON.
func decodeApprovalFast(rawSpec, rawData []byte) (approvalSpec, approvalData, bool) {
	var spec approvalSpec
	var data approvalData
	if len(rawSpec) > 0 && !compactMembers(rawSpec, "approvers", func(v []byte) bool {
		list, ok := bytes.CutPrefix(v, []byte("["))
		if !ok {
			return false
		}
		spec.Approvers = []string{}
		for len(list) > 1 {
			s, rest, ok := plainJSONStringAt(list)
			if !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != ']') || (rest[0] == ',' && len(rest) > 1 && rest[1] == ']') {
				return false
			}
			spec.Approvers = append(spec.Approvers, s)
			list = rest[1:]
			if rest[0] == ']' {
				return len(list) == 0
			}
		}
		return string(list) == "]" && len(spec.Approvers) == 0
	}) {
		return spec, data, false
	}
	if len(rawData) > 0 && !compactMembers(rawData, "message", func(v []byte) bool {
		s, rest, ok := plainJSONStringAt(v)
		data.Message = s
		return ok && len(rest) == 0
	}) {
		return spec, data, false
	}
	return spec, data, true
}

// compactMembers reads raw, a compact JSON object whose keys have no
// escape, and hands the value of its member name (once at most) to read;
// it skips the others. It reports false for any other text, and for a
// second member name or one equal to name but for case.
func compactMembers(raw []byte, name string, read func(value []byte) bool) bool {
	rest, ok := bytes.CutPrefix(raw, []byte("{"))
	if !ok {
		return false
	}
	if string(rest) == "}" {
		return true
	}
	found := false
	for {
		key, after, ok := plainJSONStringAt(rest)
		if !ok || len(after) == 0 || after[0] != ':' {
			return false
		}
		value, after, ok := compactValueAt(after[1:])
		switch {
		case !ok:
			return false
		case key == name:
			if found || !read(value) {
				return false
			}
			found = true
		case strings.EqualFold(key, name):
			return false
		}
		switch {
		case string(after) == "}":
			return true
		case len(after) > 1 && after[0] == ',':
			rest = after[1:]
		default:
			return false
		}
	}
}

// compactValueAt returns the compact JSON value b starts with, and what
// follows it. b is part of valid JSON; white space outside strings makes
// it report false.
func compactValueAt(b []byte) ([]byte, []byte, bool) {
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '"':
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return b[:i], b[i:], i > 0
			}
			depth--
		case ',':
			if depth == 0 {
				return b[:i], b[i:], i > 0
			}
		case ' ', '\t', '\n', '\r':
			return nil, nil, false
		}
	}
	return nil, nil, false
}

// plainJSONStringAt reads the JSON string that b starts with when it has
// no escape and no control character and is valid UTF-8, which
// encoding/json decodes to its bytes as they are; it returns the string
// and what follows it.
func plainJSONStringAt(b []byte) (string, []byte, bool) {
	if len(b) == 0 || b[0] != '"' {
		return "", nil, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return "", nil, false
	}
	s := b[1 : 1+end]
	for _, c := range s {
		if c < ' ' || c == '\\' {
			return "", nil, false
		}
	}
	if !utf8.Valid(s) {
		return "", nil, false
	}
	return string(s), b[2+end:], true
}
