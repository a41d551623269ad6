package asl

// DecodeJSONText decodes data as DecodeJSON does and reports whether data
// is the text AppendJSON writes of the value, byte for byte: compact, its
// strings without escapes or invalid UTF-8, no member twice. A caller that
// needs the value and its encoding (the engine, given a function's result)
// keeps data as the encoding when same is true, instead of encoding the
// value again.
func DecodeJSONText(data []byte) (v any, same bool, err error) {
	return decodeJSON(data)
}
