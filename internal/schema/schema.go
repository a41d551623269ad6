// Package schema compiles JSON Schemas (draft 2020-12 unless a document
// says otherwise) with santhosh-tekuri/jsonschema, in one place: the
// workflow checker, the step runtime, the MCP client, the API's input
// check and `aiflow run` all compile through it, and keep their own words
// for what went wrong by reading the *Error it returns.
package schema

import (
	"bytes"
	"errors"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Error is why a document could not be compiled.
type Error struct {
	// Compiling is false when the document could not be read (it is not
	// JSON), true when it was read but is not a valid JSON Schema.
	Compiling bool
	// Err is the library's error.
	Err error
}

func (e *Error) Error() string { return e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// Compile reads raw, a JSON Schema document, and compiles it as the
// resource name (which errors and $ref resolution use). A $ref may point
// within the document only (#/$defs/x); one naming a file or URL fails to
// compile, since schemas come from users and must not read this machine's
// files or reach the network. It returns an
// *Error when raw is not JSON or not a valid schema.
func Compile(name string, raw []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &Error{Err: err}
	}
	c := jsonschema.NewCompiler()
	// Schemas come from workflow authors, API callers and service
	// registrants: a $ref outside the document (file:///etc/..., a URL)
	// is refused rather than read from this machine or fetched.
	c.UseLoader(jsonschema.SchemeURLLoader{})
	if err := c.AddResource(name, doc); err != nil {
		return nil, &Error{Err: err}
	}
	s, err := c.Compile(name)
	if err != nil {
		return nil, &Error{Compiling: true, Err: err}
	}
	return s, nil
}

// Mismatch is one way an instance does not fit a schema: Pointer is the
// JSON pointer of the value at fault ("" for the whole instance) and
// Reason what is wrong with it.
type Mismatch struct {
	Pointer string
	Reason  string
}

// Validate checks the JSON text raw against s. It returns the mismatches
// (every failing unit of the library's basic output, at least one) when
// raw does not fit, none when it does, and an error (an *Error when raw is
// not JSON) when the validation could not run.
func Validate(s *jsonschema.Schema, raw []byte) ([]Mismatch, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &Error{Err: err}
	}
	return ValidateValue(s, v)
}

// ValidateValue is Validate of a JSON value already decoded as
// encoding/json decodes it with UseNumber (maps, slices, json.Number,
// strings, booleans and nil), for a caller with a faster decoder.
func ValidateValue(s *jsonschema.Schema, v any) ([]Mismatch, error) {
	err := s.Validate(v)
	if err == nil {
		return nil, nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return nil, err
	}
	var out []Mismatch
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		out = append(out, Mismatch{Pointer: u.InstanceLocation, Reason: u.Error.String()})
	}
	if len(out) == 0 {
		out = append(out, Mismatch{Reason: verr.Error()})
	}
	return out, nil
}

// Cache compiles each distinct schema once, by a key its user chooses (the
// document itself, or a checksum of what holds it). It is safe for
// concurrent use; the zero value is ready.
type Cache struct {
	m sync.Map // key -> *jsonschema.Schema
}

// Compile returns the schema kept under key, or compiles raw as name (see
// Compile) and keeps it. Failures are not kept.
func (c *Cache) Compile(key, name string, raw []byte) (*jsonschema.Schema, error) {
	if s, ok := c.m.Load(key); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := Compile(name, raw)
	if err != nil {
		return nil, err
	}
	got, _ := c.m.LoadOrStore(key, s)
	return got.(*jsonschema.Schema), nil
}
