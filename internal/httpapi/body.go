package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/control"
)

// Limits of request bodies.
const (
	// MaxDefinitionBytes bounds a workflow definition (1 MiB).
	MaxDefinitionBytes = 1 << 20
	// MaxInputBytes bounds an execution input, counted in bytes as sent
	// (256 KiB, Step Functions' limit).
	MaxInputBytes = control.MaxInputBytes
	// MaxDepth bounds how deeply arrays and objects nest in a body.
	MaxDepth = 64
	// maxSmallBody bounds the bodies of other requests.
	maxSmallBody = 64 << 10
	// envelopeBytes is the room a JSON envelope takes around its payload.
	envelopeBytes = 16 << 10
)

// readBody reads at most limit bytes of r's body; more is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, tooLarge(what, limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(what, limit)
	}
	if err != nil {
		return nil, badRequest("the request body could not be read")
	}
	return data, nil
}

func tooLarge(what string, limit int64) *apiError {
	return &apiError{Status: http.StatusRequestEntityTooLarge, Type: typeTooLarge, Title: "Content Too Large",
		Detail: fmt.Sprintf("%s is larger than %d bytes", what, limit)}
}

// decodeStrict decodes one JSON object into dst, refusing what
// encoding/json lets through: text the gate refuses (NUL, invalid UTF-8,
// lone surrogates: checkBodyText), duplicate keys, nesting deeper than
// MaxDepth, trailing data after the value; and root keys that are not
// exactly a field's name, or equal another but for case (checkRootKeys).
// Every route's body goes through it.
func decodeStrict(data []byte, dst any) error {
	if err := checkBodyText(data); err != nil {
		return err
	}
	if !strictFast(data) {
		if err := checkJSON(data); err != nil {
			return err
		}
	}
	if err := checkRootKeys(data, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		ptr := "/" + strings.ReplaceAll(te.Field, ".", "/")
		return badRequest("the body does not have the expected shape",
			FieldError{Pointer: ptr, Detail: fmt.Sprintf("expected %s, got a JSON %s", te.Type, te.Value)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return badRequest("the body has a field this route does not take",
			FieldError{Pointer: "/" + escapePointer(name), Detail: fmt.Sprintf("unknown field %q", name)})
	default:
		return badRequest("the body is not the expected JSON object")
	}
}

// checkJSON walks the tokens of data: one JSON value, no duplicate key in
// any object, no deeper than MaxDepth, nothing after it. Errors name the
// JSON pointer or the line and column.
func checkJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []*jsonFrame
	var end int64 // where the value ended
	pointer := func() string {
		var b strings.Builder
		for _, f := range stack {
			b.WriteByte('/')
			if f.object {
				b.WriteString(escapePointer(f.key))
			} else {
				b.WriteString(strconv.Itoa(f.index))
			}
		}
		return b.String()
	}
	syntax := func(err error) error {
		// The decoder's offsets count from where it last resumed; a
		// whole-text parse gives the offset into the body.
		line, col := lineCol(data, dec.InputOffset())
		var se *json.SyntaxError
		var v any
		if errors.As(json.Unmarshal(data, &v), &se) {
			// The offset is past the bad byte; at the end, past the text.
			at := se.Offset - 1
			if se.Error() == "unexpected end of JSON input" {
				at = int64(len(data))
			}
			line, col = lineCol(data, at)
		}
		detail := "the body is not JSON"
		if errors.Is(err, io.ErrUnexpectedEOF) {
			detail = "the body ends before its JSON value does"
		}
		return badRequest(detail, FieldError{Location: fmt.Sprintf("body:%d:%d", line, col), Detail: strings.TrimPrefix(err.Error(), "json: ")})
	}
	pop := func() {
		stack = stack[:len(stack)-1]
		if len(stack) > 0 {
			stack[len(stack)-1].done()
		} else {
			end = dec.InputOffset()
		}
	}
	started := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if !started {
				return badRequest("the body is empty; it must be a JSON object")
			}
			if len(stack) > 0 {
				return syntax(io.ErrUnexpectedEOF)
			}
			return nil
		}
		if err != nil {
			return syntax(err)
		}
		if started && len(stack) == 0 {
			line, col := lineCol(data, end+int64(len(data[end:])-len(bytes.TrimLeft(data[end:], " \t\r\n"))))
			return badRequest("the body has more after its JSON value", FieldError{Location: fmt.Sprintf("body:%d:%d", line, col), Detail: "trailing data"})
		}
		started = true
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.object && top.atKey {
				if tok == json.Delim('}') {
					pop()
					continue
				}
				key, _ := tok.(string)
				top.key = key
				if top.keys[key] {
					return badRequest("the body has a duplicate key", FieldError{Pointer: pointer(), Detail: fmt.Sprintf("the key %q appears more than once", key)})
				}
				top.keys[key] = true
				top.atKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) >= MaxDepth {
				return badRequest(fmt.Sprintf("the body nests deeper than %d levels", MaxDepth), FieldError{Pointer: pointer(), Detail: "too deep"})
			}
			obj := tok == json.Delim('{')
			f := &jsonFrame{object: obj, atKey: obj}
			if obj {
				f.keys = map[string]bool{}
			}
			stack = append(stack, f)
		case json.Delim(']'):
			pop()
		default:
			if len(stack) > 0 {
				stack[len(stack)-1].done()
			} else {
				end = dec.InputOffset()
			}
		}
	}
}

// jsonFrame is an open array or object of checkJSON's walk.
type jsonFrame struct {
	object bool
	keys   map[string]bool
	key    string // the current key of an object
	index  int    // the current index of an array
	atKey  bool   // an object's next token is a key
}

// done moves the frame past one value.
func (f *jsonFrame) done() {
	if f.object {
		f.atKey = true
	} else {
		f.index++
	}
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// lineCol turns a byte offset into a line and column from 1.
func lineCol(data []byte, offset int64) (int, int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(offset) - bytes.LastIndexByte(before, '\n')
}
