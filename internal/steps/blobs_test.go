package steps_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/blobtest"
	"github.com/aiflow/aiflow/internal/sfn"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
)

// TestRuntimePassesLargeResultsByReference: a large step's 1 MiB result
// goes out as a reference, the same on redelivery, and the next step's
// handler sees the value where its data holds the reference.
func TestRuntimePassesLargeResultsByReference(t *testing.T) {
	t.Parallel()
	big := blobtest.BigJSON(1 << 20)
	store := &blob.Memory{}
	var seen json.RawMessage
	handlers := map[string]steps.Handler{
		"big": steps.HandlerFunc(func(context.Context, steps.Message) (steps.Result, error) {
			return steps.Result{Output: json.RawMessage(big)}, nil
		}),
		"read": steps.HandlerFunc(func(_ context.Context, m steps.Message) (steps.Result, error) {
			seen = m.Data
			return steps.Result{Output: len(m.Data)}, nil
		}),
	}
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, handlers, func(c *steps.RuntimeConfig) { c.Blobs = store })
	large := map[string]any{"large": true}
	for range 2 { // a redelivery
		resp, err := rt.Handle(context.Background(), event(body(t, "t-big", "big", large, nil)))
		require.NoError(t, err)
		require.Empty(t, resp.BatchItemFailures)
	}
	require.Empty(t, cb.Failures())
	succ := cb.Successes()
	require.Len(t, succ, 2)
	require.Equal(t, succ[0].Output, succ[1].Output, "a redelivered step sends the same reference")
	require.Equal(t, 1, store.Len(), "and writes the same key")
	require.Less(t, len(succ[0].Output), 1024)
	var result struct {
		Output json.RawMessage `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(succ[0].Output), &result))
	ref, ok, err := blob.ParseReference(result.Output)
	require.NoError(t, err)
	require.True(t, ok)
	require.GreaterOrEqual(t, ref.Bytes, int64(len(big)), "the value as the runtime encodes it (<, > and & escaped)")

	_, err = rt.Handle(context.Background(), event(body(t, "t-read", "read", nil, map[string]any{"prompt": result.Output, "n": 1})))
	require.NoError(t, err)
	require.JSONEq(t, `{"prompt":`+string(big)+`,"n":1}`, string(seen))
}

func TestRuntimeKeepsSmallAndUnmarkedResultsInline(t *testing.T) {
	t.Parallel()
	store := &blob.Memory{}
	handlers := map[string]steps.Handler{
		"out": steps.HandlerFunc(func(_ context.Context, m steps.Message) (steps.Result, error) {
			var d struct{ N int }
			require.NoError(t, json.Unmarshal(m.Data, &d))
			return steps.Result{Output: json.RawMessage(blobtest.BigJSON(d.N))}, nil
		}),
	}
	cb := &stepstest.Callbacks{}
	rt := newRuntime(t, cb, handlers, func(c *steps.RuntimeConfig) { c.Blobs = store; c.BlobThreshold = 100 << 10 })
	_, err := rt.Handle(context.Background(), event(
		body(t, "t-small", "out", map[string]any{"large": true}, map[string]any{"n": 60 << 10}),
		body(t, "t-unmarked", "out", map[string]any{}, map[string]any{"n": 300 << 10}),
	))
	require.NoError(t, err)
	require.Zero(t, store.Len())
	require.Len(t, cb.Successes(), 1)
	require.Equal(t, "t-small", cb.Successes()[0].TaskToken)
	f := cb.Failures()
	require.Len(t, f, 1)
	require.Equal(t, sfn.SendTaskFailureInput{TaskToken: "t-unmarked", Error: steps.CodeOutputTooLarge}, sfn.SendTaskFailureInput{TaskToken: f[0].TaskToken, Error: f[0].Error})
	require.Contains(t, f[0].Cause, "large: true")
}

func TestRuntimeFailsAReferenceItCannotRead(t *testing.T) {
	t.Parallel()
	ref := blob.MarshalReference(blob.Ref{URI: blob.LocalScheme + "gone.json", Bytes: 2, SHA256: "9b2e6a4c0f0e1d2c3b4a59687766554433221100ffeeddccbbaa998877665544", ContentType: blob.ContentType})
	for name, store := range map[string]blob.Store{"deleted": &blob.Memory{}, "no store": nil} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cb := &stepstest.Callbacks{}
			rt := newRuntime(t, cb, echo(), func(c *steps.RuntimeConfig) { c.Blobs = store })
			resp, err := rt.Handle(context.Background(), event(body(t, "t1", "echo", nil, map[string]any{"prompt": ref})))
			require.NoError(t, err)
			require.Empty(t, resp.BatchItemFailures)
			require.Len(t, cb.Failures(), 1)
			require.Equal(t, steps.CodeBlobUnreadable, cb.Failures()[0].Error)
			require.Contains(t, cb.Failures()[0].Cause, `step "summarize"`)
		})
	}
}
