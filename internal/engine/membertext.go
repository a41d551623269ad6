package engine

// memberText returns the text of member key of the JSON object text s,
// when s is what asl.AppendJSON writes (compact, each key written once, as
// appendJSONString escapes it) and that member's value is an object or an
// array: the text text() would give that value, cut from s without a copy.
// ok is false otherwise, and for a key that needs escaping. A task's
// message body is cut so from its parameters' text, which the engine wrote
// already for its TaskScheduled event, rather than encoded again.
func memberText(s, key string) (text string, ok bool) {
	if len(s) < 2 || s[0] != '{' || !plainKey(key) {
		return "", false
	}
	i := 1
	for i < len(s) && s[i] == '"' {
		end := stringEnd(s, i)
		if end < 0 || end >= len(s) || s[end] != ':' {
			return "", false
		}
		name := s[i+1 : end-1]
		start := end + 1
		stop := valueEnd(s, start)
		if stop < 0 || stop >= len(s) {
			return "", false
		}
		if name == key {
			if c := s[start]; c != '{' && c != '[' {
				return "", false
			}
			return s[start:stop], true
		}
		switch s[stop] {
		case ',':
			i = stop + 1
		default:
			return "", false // the end of the object: no such member
		}
	}
	return "", false
}

// plainKey reports whether key is written as it is inside a JSON string.
func plainKey(key string) bool {
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return false
		}
	}
	return true
}

// stringEnd is the index just past the JSON string that starts at s[i]
// (a quote), or -1.
func stringEnd(s string, i int) int {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd is the index just past the compact JSON value that starts at
// s[i], or -1.
func valueEnd(s string, i int) int {
	if i >= len(s) {
		return -1
	}
	switch s[i] {
	case '"':
		return stringEnd(s, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end := stringEnd(s, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	for j := i; j < len(s); j++ { // a number, true, false or null
		if c := s[j]; c == ',' || c == '}' || c == ']' {
			return j
		}
	}
	return -1
}
