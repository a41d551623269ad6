// Package blobtest is the conformance suite every blob.Store runs: the
// memory store, the folder, PostgreSQL (blob/pgblob) and S3
// (blob/s3blob).
package blobtest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
)

// Suite says how to make the store under test.
type Suite struct {
	// NewFunc returns an empty store.
	NewFunc func(t *testing.T) blob.Store
	// Scheme is how the store's URIs start: "aiflow-blob:" or
	// "s3://bucket/".
	Scheme string
	// Deletes is set when the store is a blob.ExecutionDeleter.
	Deletes bool
}

// Run runs the suite.
func Run(t *testing.T, s Suite) {
	t.Helper()
	t.Run("OffloadResolveRoundTrip", func(t *testing.T) {
		t.Parallel()
		st := s.NewFunc(t)
		ctx := context.Background()
		big := BigJSON(1 << 20)
		ref, r, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: "arn:aws:states:us-east-1:123456789012:execution:wf:run-1", Step: "fetch", Value: big})
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(r.URI, s.Scheme), "uri %s", r.URI)
		require.Equal(t, int64(len(big)), r.Bytes)
		require.Less(t, len(ref), 400)

		doc := []byte(`{"z":1,"prompt":` + string(ref) + `,"list":[` + string(ref) + `,2],"a":"x"}`)
		out, err := blob.Resolve(ctx, st, doc, 0)
		require.NoError(t, err)
		require.Equal(t, `{"z":1,"prompt":`+string(big)+`,"list":[`+string(big)+`,2],"a":"x"}`, string(out))

		_, err = blob.Resolve(ctx, st, doc, int64(len(big)))
		require.ErrorIs(t, err, blob.ErrTooLarge)
	})
	t.Run("RedeliveryWritesTheSameKey", func(t *testing.T) {
		t.Parallel()
		st := s.NewFunc(t)
		ctx := context.Background()
		p := blob.OffloadParams{Execution: "arn:aws:states:us-east-1:123456789012:execution:wf:run-2", Step: "fetch", Value: BigJSON(300 << 10)}
		_, first, err := blob.Offload(ctx, st, p)
		require.NoError(t, err)
		_, again, err := blob.Offload(ctx, st, p)
		require.NoError(t, err)
		require.Equal(t, first, again)
		p.Value = BigJSON(301 << 10)
		_, other, err := blob.Offload(ctx, st, p)
		require.NoError(t, err)
		require.NotEqual(t, first.URI, other.URI, "another result of the same step is another key: the first reference keeps its value")
		body, err := st.Get(ctx, first.URI)
		require.NoError(t, err)
		require.Len(t, body, int(first.Bytes))
	})
	t.Run("GetMissingAndForeign", func(t *testing.T) {
		t.Parallel()
		st := s.NewFunc(t)
		ctx := context.Background()
		_, err := st.Get(ctx, s.Scheme+"0123/none/missing.json")
		require.ErrorIs(t, err, blob.ErrNotFound)
		foreign := "s3://another-bucket/k.json"
		if strings.HasPrefix(s.Scheme, "s3://") {
			foreign = blob.LocalScheme + "k.json"
		}
		_, err = st.Get(ctx, foreign)
		require.ErrorIs(t, err, blob.ErrForeign)
	})
	if s.Deletes {
		t.Run("DeleteExecution", func(t *testing.T) {
			t.Parallel()
			st := s.NewFunc(t)
			ctx := context.Background()
			exec, other := "arn:aws:states:us-east-1:123456789012:execution:wf:gone", "arn:aws:states:us-east-1:123456789012:execution:wf:kept"
			var refs []blob.Ref
			for i, e := range []string{exec, exec, other} {
				_, r, err := blob.Offload(ctx, st, blob.OffloadParams{Execution: e, Step: fmt.Sprintf("s%d", i), Value: []byte(`"v"`)})
				require.NoError(t, err)
				refs = append(refs, r)
			}
			n, err := st.(blob.ExecutionDeleter).DeleteExecution(ctx, exec)
			require.NoError(t, err)
			require.Equal(t, 2, n)
			_, err = st.Get(ctx, refs[0].URI)
			require.ErrorIs(t, err, blob.ErrNotFound)
			_, err = st.Get(ctx, refs[2].URI)
			require.NoError(t, err)
		})
	}
}

// BigJSON returns a JSON object of about n bytes, with text of many
// kinds (escapes, non-ASCII) in it.
func BigJSON(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"i":%d,"text":"line %d: caf\u00e9 \"quoted\" \\ <tag> & more"}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}
