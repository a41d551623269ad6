package workflow

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/task"
)

// TestTaskMessagesRoundTrip renders the message template of compiled task
// states as a state machine does (the task's Parameters against its input
// and the context object) and reads the body back with task.Decode, the
// reader every worker uses.
func TestTaskMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	m, _ := compileSrc(t, `name: refunds
input:
  type: object
  required: [order_id, note]
  properties:
    order_id: {type: integer}
    note: {type: string}
steps:
  - id: order
    mcp:
      server: support
      tool: get_order
      arguments:
        order_id: "{{ input.order_id }}"
    timeout: 30s
  - id: approve
    approval:
      approvers: [ops]
      message: "{{ input.note }}"
    timeout: 2h
`)
	input := map[string]any{"input": map[string]any{"order_id": json.Number("1042"), "note": "Refund it?"}, "steps": map[string]any{}}
	execution := task.Execution{ID: "arn:aws:states:eu-west-1:123456789012:execution:refunds:run-1", Name: "run-1", StartTime: "2026-01-02T03:04:05Z"}
	for _, tc := range []struct {
		state string
		want  task.Message
	}{
		{"order", task.Message{
			Version: 1, TaskToken: "tok-order", Execution: execution,
			Step: task.Step{ID: "order", Kind: KindMCP, Attempt: 2, EnteredTime: "2026-01-02T03:04:06Z"},
			Spec: json.RawMessage(`{"server":"support","timeout_seconds":30,"tool":"get_order"}`),
			Data: json.RawMessage(`{"arguments":{"order_id":1042}}`),
		}},
		{"approve", task.Message{
			Version: 1, TaskToken: "tok-approve", Execution: execution,
			Step: task.Step{ID: "approve", Kind: KindApproval, Attempt: 2, EnteredTime: "2026-01-02T03:04:06Z"},
			Spec: json.RawMessage(`{"approvers":["ops"],"timeout_seconds":7200}`),
			Data: json.RawMessage(`{"message":"Refund it?"}`),
		}},
	} {
		t.Run(tc.state, func(t *testing.T) {
			t.Parallel()
			st := m.States[tc.state]
			require.NotNil(t, st)
			require.Equal(t, SendMessageWaitForTaskToken, st.Resource)
			context := map[string]any{
				"Execution": map[string]any{"Id": execution.ID, "Name": execution.Name, "StartTime": execution.StartTime},
				"State":     map[string]any{"Name": tc.state, "EnteredTime": "2026-01-02T03:04:06Z", "RetryCount": json.Number("2")},
				"Task":      map[string]any{"Token": tc.want.TaskToken},
			}
			params, err := asl.ApplyTemplate(st.Parameters, input, context, nil)
			require.NoError(t, err)
			obj, ok := asl.AsObject(params)
			require.True(t, ok)
			msg, _ := obj.Get("MessageBody")
			body, err := json.Marshal(msg)
			require.NoError(t, err)

			got, err := task.Decode(string(body))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
