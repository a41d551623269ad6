package httpapi

import (
	"encoding/json"
	"slices"
	"strconv"
)

// maxPlainDetails bounds the notes marshalDetails writes itself.
const maxPlainDetails = 16

// marshalDetails is json.Marshal(details) of an audit record's notes,
// written without reflection when every key and value is plain: a string
// of printable ASCII that encoding/json writes as it is (no quote,
// backslash or HTML character), or an int or a bool. encoding/json sorts
// a map's keys and writes them so too. Any other note, and more than
// maxPlainDetails, are left to json.Marshal (TestMarshalDetailsIsJSONs).
func marshalDetails(details map[string]any) []byte {
	if len(details) > maxPlainDetails {
		return marshalDetailsReflect(details)
	}
	var keyBuf [maxPlainDetails]string
	keys := keyBuf[:0]
	size := 2
	for k, v := range details {
		if !plainJSONString(k) {
			return marshalDetailsReflect(details)
		}
		switch v := v.(type) {
		case string:
			if !plainJSONString(v) {
				return marshalDetailsReflect(details)
			}
			size += len(v) + 2
		case int, bool:
			size += 20
		default:
			return marshalDetailsReflect(details)
		}
		size += len(k) + 4
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]byte, 0, size)
	out = append(out, '{')
	for i, k := range keys {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, k...)
		out = append(out, '"', ':')
		switch v := details[k].(type) {
		case string:
			out = append(out, '"')
			out = append(out, v...)
			out = append(out, '"')
		case int:
			out = strconv.AppendInt(out, int64(v), 10)
		case bool:
			out = strconv.AppendBool(out, v)
		}
	}
	return append(out, '}')
}

// marshalDetailsReflect is json.Marshal(details).
func marshalDetailsReflect(details map[string]any) []byte {
	out, _ := json.Marshal(details)
	return out
}

// plainJSONString reports whether encoding/json writes s between quotes
// as it is, HTML escaping on.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c > '~', c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
