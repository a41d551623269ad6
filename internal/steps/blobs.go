package steps

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aiflow/aiflow/internal/blob"
)

// CodeBlobUnreadable fails a task whose data holds a reference to a large
// result (package blob) that cannot be read: deleted with its execution's
// retention, in a store this worker has not, not the value referenced, or
// larger once resolved than the worker takes.
const CodeBlobUnreadable = "Steps.BlobUnreadable"

// large reports whether m's step is marked large (spec "large": true):
// its result, over the threshold, is stored and passed by reference.
func large(m Message) bool {
	var spec struct {
		Large bool `json:"large"`
	}
	return json.Unmarshal(m.Spec, &spec) == nil && spec.Large
}

// resolveData replaces the references in m's data with the values they
// name, so that the handler sees what the state machine would have passed
// without the payload limit. A reference that will not resolve by trying
// again fails the task (a *Failure); any other error leaves the message
// for another delivery.
func (r *Runtime) resolveData(ctx context.Context, m Message) (Message, error) {
	if !blob.MayHoldReference(m.Data) {
		return m, nil
	}
	data, err := blob.Resolve(ctx, r.blobs, m.Data, r.maxResolved)
	switch {
	case err == nil:
		m.Data = data
		return m, nil
	case blob.Permanent(err):
		return m, Failf(CodeBlobUnreadable, "the data of step %q holds a reference to a large result that cannot be read: %v", m.Step.ID, err)
	}
	return m, fmt.Errorf("reading the large results step %s reads: %w", m.Step.ID, err)
}

// offload stores the output of a result over the threshold, for a step
// marked large, and returns the result's JSON with a reference in place
// of the output; out as it is otherwise.
func (r *Runtime) offload(ctx context.Context, m Message, result Result, out []byte) ([]byte, error) {
	if r.blobs == nil || len(out) <= r.threshold || !large(m) {
		return out, nil
	}
	value, err := json.Marshal(result.Output)
	if err != nil {
		return nil, fmt.Errorf("encoding the result of step %s: %w", m.Step.ID, err)
	}
	ref, _, err := blob.Offload(ctx, r.blobs, blob.OffloadParams{Execution: m.Execution.ID, Step: m.Step.ID, Value: value})
	if err != nil {
		return nil, err
	}
	result.Output = ref
	return json.Marshal(result)
}

// tooLargeHint says how a result over the payload limit could pass.
func (r *Runtime) tooLargeHint(m Message) string {
	switch {
	case !large(m):
		return "; mark the step large: true to pass its result by reference"
	case r.blobs == nil:
		return "; this worker has no blob store to keep it in (AIFLOW_BLOB_STORE)"
	}
	return ""
}
