package schema_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/schema"
)

const person = `{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}}}`

func TestCompile(t *testing.T) {
	t.Parallel()
	s, err := schema.Compile("person.json", []byte(person))
	require.NoError(t, err)
	require.NotNil(t, s)

	_, err = schema.Compile("broken.json", []byte(`{"type": `))
	var se *schema.Error
	require.ErrorAs(t, err, &se)
	require.False(t, se.Compiling, "not JSON is a reading error")
	require.Equal(t, se.Err.Error(), err.Error())
	require.Same(t, se.Err, errors.Unwrap(err))

	_, err = schema.Compile("bad.json", []byte(`{"type": 7}`))
	require.ErrorAs(t, err, &se)
	require.True(t, se.Compiling, "a schema that is JSON but not a schema fails to compile")
}

func TestValidate(t *testing.T) {
	t.Parallel()
	s, err := schema.Compile("person.json", []byte(person))
	require.NoError(t, err)

	ms, err := schema.Validate(s, []byte(`{"name": "Ada", "age": 36}`))
	require.NoError(t, err)
	require.Nil(t, ms)

	ms, err = schema.Validate(s, []byte(`{"age": -1}`))
	require.NoError(t, err)
	pointers := map[string]bool{}
	for _, m := range ms {
		pointers[m.Pointer] = true
		require.NotEmpty(t, m.Reason)
	}
	require.True(t, pointers[""], "the missing name is the whole instance's: %v", ms)
	require.True(t, pointers["/age"], "the age is named: %v", ms)

	_, err = schema.Validate(s, []byte(`{`))
	var se *schema.Error
	require.ErrorAs(t, err, &se)
	require.False(t, se.Compiling)
}

func TestCache(t *testing.T) {
	t.Parallel()
	var c schema.Cache
	var wg sync.WaitGroup
	got := make([]any, 8)
	errs := make([]error, len(got))
	for i := range got {
		wg.Go(func() { got[i], errs[i] = c.Compile("k", "person.json", []byte(person)) })
	}
	wg.Wait()
	for i, s := range got {
		require.NoError(t, errs[i])
		require.Same(t, got[0], s, "one schema per key")
	}
	_, err := c.Compile("bad", "bad.json", []byte(`{"type": 7}`))
	require.Error(t, err)
	_, err = c.Compile("bad", "bad.json", []byte(`{"type": 7}`))
	require.Error(t, err, "a failure is not kept as a schema")
}

// TestRefsStayInTheDocument: a schema from a user cannot make aiflow read
// a file of this machine or fetch a URL through $ref.
func TestRefsStayInTheDocument(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret.json")
	require.NoError(t, os.WriteFile(secret, []byte(`{"type": "integer"}`), 0o600))
	for _, ref := range []string{"file://" + secret, secret, "http://127.0.0.1:1/x.json", "https://example.com/s.json", "other.json"} {
		_, err := schema.Compile("user.json", []byte(`{"$ref": "`+ref+`"}`))
		var se *schema.Error
		require.ErrorAs(t, err, &se, ref)
		require.True(t, se.Compiling, ref)
	}
	s, err := schema.Compile("local.json", []byte(`{"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}`))
	require.NoError(t, err, "a reference within the document still works")
	m, err := schema.Validate(s, []byte(`"x"`))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	_, err = schema.Compile("meta.json", []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"}`))
	require.NoError(t, err, "the standard metaschemas are built in")
	_, err = schema.Compile("meta7.json", []byte(`{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}`))
	require.NoError(t, err)
}
