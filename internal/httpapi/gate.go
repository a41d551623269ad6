package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/textgate"
)

// typeInvalidText is the problem type of a request whose text (body, path
// segment, query parameter or header) holds a NUL, invalid UTF-8 or a lone
// surrogate.
const typeInvalidText = "https://aiflow.dev/problems/invalid-text"

// typeUnsupportedMediaType is the problem type of a body sent without the
// content type its route takes.
const typeUnsupportedMediaType = "https://aiflow.dev/problems/unsupported-media-type"

// gatedHeaders are the request headers the handlers read as text.
// X-Request-Id and X-Correlation-Id are read only when printable ASCII
// (saneID); Authorization is the authenticator's.
var gatedHeaders = []string{"Idempotency-Key", "Last-Event-ID"}

// checkRequestText runs the text gate over what a route reads besides its
// body: its path segments, every query parameter (name and value) and the
// headers it reads. A flaw is a 400 naming "path:<name>", "query:<name>"
// or "header:<name>"; a query that does not parse is a 400 too.
func checkRequestText(r *http.Request) error {
	for _, name := range patternWildcards(r.Pattern) {
		if err := textgate.String(r.PathValue(name)); err != nil {
			return textProblem("path:"+name, "the path segment "+name, err)
		}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &apiError{Status: http.StatusBadRequest, Type: typeInvalidText, Title: "Invalid request",
			Detail: "the query string is malformed", Errors: []FieldError{{Location: "query", Detail: "not a URL-encoded query"}}}
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := textgate.String(name); err != nil {
			return textProblem("query", "a query parameter's name", err)
		}
		for _, v := range q[name] {
			if err := textgate.String(v); err != nil {
				return textProblem("query:"+name, "the query parameter "+name, err)
			}
		}
	}
	for _, name := range gatedHeaders {
		for _, v := range r.Header.Values(name) {
			if err := textgate.String(v); err != nil {
				return textProblem("header:"+name, "the header "+name, err)
			}
		}
	}
	return nil
}

// patternWildcards lists the wildcard names of a ServeMux pattern:
// "GET /v1/executions/{id}" has "id".
func patternWildcards(pattern string) []string {
	var names []string
	for {
		i := strings.IndexByte(pattern, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(pattern[i:], '}')
		if j < 0 {
			return names
		}
		name := strings.TrimSuffix(pattern[i+1:i+j], "...")
		if name != "$" {
			names = append(names, name)
		}
		pattern = pattern[i+j+1:]
	}
}

// textProblem is the 400 of a text the gate refuses at location (a query
// parameter, path segment or header), which what names in words.
func textProblem(location, what string, err error) *apiError {
	detail := "refused by the text check"
	var te *textgate.Error
	if errors.As(err, &te) {
		detail = fmt.Sprintf("holds %s at byte %d", te.Flaw.Describe(), te.Offset)
	}
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidText, Title: "Invalid request",
		Detail: what + " holds text that is refused: a NUL, invalid UTF-8 or a lone surrogate",
		Errors: []FieldError{{Location: location, Detail: detail}}}
}

// checkBodyText runs the text gate over a JSON body: a flaw is a 400
// naming its JSON pointer (the object's, for a flaw in a key). A body that
// is not JSON passes, for the decoder to report.
func checkBodyText(data []byte) error {
	var te *textgate.Error
	if !errors.As(textgate.JSON(data), &te) {
		return nil
	}
	fe := FieldError{Pointer: te.Pointer, Detail: fmt.Sprintf("holds %s at byte %d", te.Flaw.Describe(), te.Offset)}
	if te.InKey {
		fe.Detail = fmt.Sprintf("a key of this object holds %s at byte %d", te.Flaw.Describe(), te.Offset)
	}
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidText, Title: "Invalid request",
		Detail: "the body holds text that is refused: a NUL, invalid UTF-8 or a lone surrogate", Errors: []FieldError{fe}}
}

// checkDefinitionText runs the text gate over a definition sent as YAML:
// a flaw is a 400 naming its line and column.
func checkDefinitionText(data []byte) error {
	var te *textgate.Error
	if !errors.As(textgate.String(string(data)), &te) {
		return nil
	}
	line, col := lineCol(data, int64(te.Offset))
	return &apiError{Status: http.StatusBadRequest, Type: typeInvalidText, Title: "Invalid request",
		Detail: "the definition holds text that is refused: a NUL, invalid UTF-8 or a lone surrogate",
		Errors: []FieldError{{Location: fmt.Sprintf("body:%d:%d", line, col), Detail: "holds " + te.Flaw.Describe()}}}
}

// readJSONBody reads a JSON body of at most limit bytes. A body that is
// not empty (but for whitespace) must be sent as application/json (a
// charset, if given, utf-8); otherwise it is a 415. An empty body is
// returned as nil: required says whether that is a 400.
func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64, required bool) ([]byte, error) {
	data, err := readBody(w, r, limit, "the request body")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return nil, badRequest("the body is empty; it must be a JSON object")
		}
		return nil, nil
	}
	if err := requireJSONContentType(r); err != nil {
		return nil, err
	}
	return data, nil
}

// requireJSONContentType answers 415 unless the request says its body is
// application/json.
func requireJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err == nil && mt == "application/json" {
		if cs, ok := params["charset"]; !ok || strings.EqualFold(cs, "utf-8") {
			return nil
		}
	}
	detail := "the body must be sent as application/json"
	switch {
	case ct == "":
		detail += "; the request has no Content-Type"
	case textgate.Valid(ct) && len(ct) <= 100:
		detail += fmt.Sprintf("; the request's Content-Type is %q", ct)
	}
	return &apiError{Status: http.StatusUnsupportedMediaType, Type: typeUnsupportedMediaType, Title: "Unsupported Media Type",
		Detail: detail, Errors: []FieldError{{Location: "header:Content-Type", Detail: "expected application/json"}}}
}

// checkRootKeys matches the keys of the body's root object exactly against
// the JSON names of dst's fields: encoding/json would match them
// regardless of case, so {"approve": true, "Approve": false} would carry
// two decisions, the later winning. A key equal to an earlier one but for
// case is a duplicate; a key that is no field's name exactly is unknown.
// data has passed checkJSON: one object, no exact duplicates.
func checkRootKeys(data []byte, dst any) error {
	fields := jsonFieldNames(reflect.TypeOf(dst))
	if fields == nil {
		return nil
	}
	keys, err := rootKeys(data)
	if err != nil || keys == nil {
		return nil // not an object: the decoder says so
	}
	seen := map[string]string{} // folded -> the key as sent
	for _, k := range keys {
		f := foldKey(k)
		if earlier, ok := seen[f]; ok {
			return badRequest("the body has a duplicate key",
				FieldError{Pointer: "/" + escapePointer(k), Detail: fmt.Sprintf("the key %q is %q but for case; keys are matched exactly, and one may appear once", k, earlier)})
		}
		seen[f] = k
		if slices.Contains(fields, k) {
			continue
		}
		detail := fmt.Sprintf("unknown field %q", k)
		for _, name := range fields {
			if foldKey(name) == f {
				detail = fmt.Sprintf("unknown field %q: field names are case-sensitive; this route takes %q", k, name)
				break
			}
		}
		return badRequest("the body has a field this route does not take", FieldError{Pointer: "/" + escapePointer(k), Detail: detail})
	}
	return nil
}

// rootKeys lists the keys of the root object of data in order; nil when
// the root is not an object.
func rootKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, err
	}
	keys := []string{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// jsonFieldNames lists the JSON names of a struct type's fields (through
// a pointer); nil for other types.
func jsonFieldNames(t reflect.Type) []string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	names := []string{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// foldKey folds a key as encoding/json does when it matches a field name:
// ASCII letters to upper case, other runes to the upper case of their lower
// case (so the Kelvin sign matches k).
func foldKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			continue
		}
		b.WriteRune(unicode.ToUpper(unicode.ToLower(r)))
	}
	return b.String()
}
