package blob_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/blobtest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, blobtest.Suite{NewFunc: func(*testing.T) blob.Store { return &blob.Memory{} }, Scheme: blob.LocalScheme, Deletes: true})
}

func TestDir(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, blobtest.Suite{NewFunc: func(t *testing.T) blob.Store { return blob.NewDir(t.TempDir()) }, Scheme: blob.LocalScheme, Deletes: true})
}

func TestReferenceRoundTrips(t *testing.T) {
	t.Parallel()
	r := blob.Ref{URI: "s3://aiflow-blobs/0a1b/fetch/" + sha + ".json", Bytes: 1048576, SHA256: sha, ContentType: blob.ContentType}
	raw := blob.MarshalReference(r)
	require.JSONEq(t, `{"$aiflow_blob":{"uri":"s3://aiflow-blobs/0a1b/fetch/`+sha+`.json","bytes":1048576,"sha256":"`+sha+`","content_type":"application/json"}}`, string(raw))
	got, ok, err := blob.ParseReference(raw)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, r, got)
	// Through a JSON round trip of a document holding it, as Step
	// Functions passes it on.
	var doc any
	require.NoError(t, json.Unmarshal([]byte(`{"steps":{"fetch":{"output":`+string(raw)+`}}}`), &doc))
	again, err := json.Marshal(doc.(map[string]any)["steps"].(map[string]any)["fetch"].(map[string]any)["output"])
	require.NoError(t, err)
	got, ok, err = blob.ParseReference(again)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, r, got)
	refs, err := blob.References([]byte(`[1,{"a":` + string(raw) + `}]`))
	require.NoError(t, err)
	require.Equal(t, []blob.Ref{r}, refs)
}

const sha = "9b2e6a4c0f0e1d2c3b4a59687766554433221100ffeeddccbbaa998877665544"

func TestParseReferenceTellsValuesFromReferences(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		doc     string
		ok, bad bool
	}{
		"another member beside it": {doc: `{"$aiflow_blob":{"uri":"aiflow-blob:k"},"x":1}`},
		"a string":                 {doc: `"$aiflow_blob"`},
		"no uri":                   {doc: `{"$aiflow_blob":{"bytes":1,"sha256":"` + sha + `","content_type":"application/json"}}`, ok: true, bad: true},
		"an unknown scheme":        {doc: `{"$aiflow_blob":{"uri":"http://x/k","bytes":1,"sha256":"` + sha + `","content_type":"application/json"}}`, ok: true, bad: true},
		"a short sha256":           {doc: `{"$aiflow_blob":{"uri":"aiflow-blob:k","bytes":1,"sha256":"abc","content_type":"application/json"}}`, ok: true, bad: true},
		"an unknown field":         {doc: `{"$aiflow_blob":{"uri":"aiflow-blob:k","bytes":1,"sha256":"` + sha + `","content_type":"application/json","x":1}}`, ok: true, bad: true},
		"a reference":              {doc: `{"$aiflow_blob":{"uri":"aiflow-blob:k","bytes":1,"sha256":"` + sha + `","content_type":"application/json"}}`, ok: true},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, ok, err := blob.ParseReference(json.RawMessage(tc.doc))
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.bad, err != nil, "%v", err)
		})
	}
}

func TestResolveChecksTheValue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &blob.Memory{}
	ref, r, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "e", Step: "s", Value: []byte(`{"a":1}`)})
	require.NoError(t, err)
	key, err := blob.LocalKey(r.URI)
	require.NoError(t, err)
	_, err = st.Put(ctx, key, []byte(`{"a":2}`))
	require.NoError(t, err)
	_, err = blob.Resolve(ctx, st, ref, 0)
	require.ErrorIs(t, err, blob.ErrCorrupt)
	require.True(t, blob.Permanent(err))

	_, err = blob.Resolve(ctx, nil, ref, 0)
	require.ErrorIs(t, err, blob.ErrForeign)

	plain := []byte(`{"b": [1, 2]}`)
	out, err := blob.Resolve(ctx, nil, plain, 0)
	require.NoError(t, err)
	require.Equal(t, plain, out, "a document without references is returned as it is")

	_, _, err = blob.Offload(ctx, st, blob.OffloadParams{Execution: "e", Step: "s", Value: []byte(`{`)})
	require.Error(t, err)
}

func TestKeyIsContentAddressedByExecutionAndStep(t *testing.T) {
	t.Parallel()
	k := blob.Key("arn:aws:states:us-east-1:123456789012:execution:wf:run", "fetch", sha)
	require.Equal(t, blob.ExecutionPrefix("arn:aws:states:us-east-1:123456789012:execution:wf:run")+"/fetch/"+sha+".json", k)
	require.Len(t, blob.ExecutionPrefix("x"), 32)
	require.NotEqual(t, blob.ExecutionPrefix("a"), blob.ExecutionPrefix("b"))
}
