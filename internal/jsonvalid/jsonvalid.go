// Package jsonvalid checks that bytes are one JSON value, as
// encoding/json.Valid does, several times faster: the event store checks
// every event's data before it stores it, and the engine's history
// batches are kilobytes each, thousands a second. Valid gives
// encoding/json.Valid's answer for every input (FuzzValidIsEncodingJSONs):
// RFC 8259's grammar, strings whose bytes are not checked as UTF-8, at
// most 10,000 nested arrays and objects.
package jsonvalid

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// Valid reports whether data is one JSON value, with white space around
// it or not.
func Valid(data []byte) bool { return valid(data) }

// ValidString is Valid of a string, without a copy of it.
func ValidString(data string) bool { return valid(data) }

// text is what the validator reads: bytes or a string.
type text interface{ []byte | string }

// valid is Valid of bytes or of a string.
func valid[T text](data T) bool {
	// objects holds, for each open array or object, whether it is an
	// object: a bit each, the first 256 levels on the stack.
	var small [4]uint64
	objects := small[:]
	depth := 0
	n := len(data)
	i := skipSpace(data, 0)

value: // a value starts at i
	if i >= n {
		return false
	}
	switch c := data[i]; {
	case c == '{' || c == '[':
		if depth == maxDepth {
			return false
		}
		if depth/64 == len(objects) {
			objects = append(objects, 0)
		}
		bit := uint64(1) << (depth % 64)
		if c == '{' {
			objects[depth/64] |= bit
		} else {
			objects[depth/64] &^= bit
		}
		depth++
		i = skipSpace(data, i+1)
		if i < n && (data[i] == '}' && c == '{' || data[i] == ']' && c == '[') {
			depth--
			i++
			goto next
		}
		if c == '[' {
			goto value
		}
		goto key
	case c == '"':
		if i = skipString(data, i); i < 0 {
			return false
		}
	case c == '-' || '0' <= c && c <= '9':
		if i = skipNumber(data, i); i < 0 {
			return false
		}
	case c == 't':
		if !hasAt(data, i, "true") {
			return false
		}
		i += 4
	case c == 'f':
		if !hasAt(data, i, "false") {
			return false
		}
		i += 5
	case c == 'n':
		if !hasAt(data, i, "null") {
			return false
		}
		i += 4
	default:
		return false
	}

next: // a value ended before i
	i = skipSpace(data, i)
	if depth == 0 {
		return i == n
	}
	if i >= n {
		return false
	}
	if objects[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0 {
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
			goto key
		case '}':
			depth--
			i++
			goto next
		}
		return false
	}
	switch data[i] {
	case ',':
		i = skipSpace(data, i+1)
		goto value
	case ']':
		depth--
		i++
		goto next
	}
	return false

key: // an object's member starts at i
	if i >= n || data[i] != '"' {
		return false
	}
	if i = skipString(data, i); i < 0 {
		return false
	}
	i = skipSpace(data, i)
	if i >= n || data[i] != ':' {
		return false
	}
	i = skipSpace(data, i+1)
	goto value
}

// skipSpace is the index of the first byte at or after i that is not
// JSON white space (or len(data)).
func skipSpace[T text](data T, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
			continue
		}
		break
	}
	return i
}

// hasAt reports whether data holds word at i.
func hasAt[T text](data T, i int, word string) bool {
	if len(data)-i < len(word) {
		return false
	}
	for k := range len(word) {
		if data[i+k] != word[k] {
			return false
		}
	}
	return true
}

// plain marks the bytes a string holds as they are: all but the quote,
// the backslash and the control bytes.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString is the index after the string that starts at data[i] (a
// quote), or -1 if it is not one.
func skipString[T text](data T, i int) int {
	n := len(data)
	i++
	for {
		for i < n && plain[data[i]] {
			i++
		}
		if i >= n {
			return -1
		}
		switch data[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= n {
				return -1
			}
			switch data[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if n-i < 6 || !isHex(data[i+2]) || !isHex(data[i+3]) || !isHex(data[i+4]) || !isHex(data[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control byte
			return -1
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipNumber is the index after the number that starts at data[i], or -1
// if it is not one: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
func skipNumber[T text](data T, i int) int {
	n := len(data)
	if data[i] == '-' {
		i++
	}
	switch {
	case i >= n:
		return -1
	case data[i] == '0':
		i++
	case '1' <= data[i] && data[i] <= '9':
		i = skipDigits(data, i+1)
	default:
		return -1
	}
	if i < n && data[i] == '.' {
		j := skipDigits(data, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < n && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < n && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := skipDigits(data, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// skipDigits is the index of the first byte at or after i that is not a
// digit.
func skipDigits[T text](data T, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}
