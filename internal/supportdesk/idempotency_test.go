package supportdesk_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/mcpclient"
	"github.com/aiflow/aiflow/internal/steps"
	"github.com/aiflow/aiflow/internal/steps/stepstest"
	"github.com/aiflow/aiflow/internal/supportdesk"
	"github.com/aiflow/aiflow/internal/task"
)

// callKeyed calls a tool with an idempotency key in the call's _meta.
func callKeyed(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, key string) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args, Meta: mcp.Meta{mcpclient.IdempotencyMetaKey: key}})
	require.NoError(t, err, "a tool call must never be a protocol error")
	return res
}

// okKeyed is callKeyed for a call that must succeed, decoded.
func okKeyed[T any](t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any, key string) T {
	t.Helper()
	res := callKeyed(t, cs, tool, args, key)
	require.False(t, res.IsError, "%s(%v) failed: %s", tool, args, text(res))
	b, err := json.Marshal(res.StructuredContent)
	require.NoError(t, err)
	var out T
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// TestEveryChangeHonoursAKeyInMeta: a key in the call's _meta makes every
// mutating tool change once, over every transport; a repeated key answers
// the first result.
func TestEveryChangeHonoursAKeyInMeta(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		audits := count(t, b, `SELECT count(*) FROM support.audit`)
		newTicket := map[string]any{"customer_id": adaID, "subject": "Lamp flickers", "description": "Since Monday.", "category": "complaint"}
		created := okKeyed[supportdesk.TicketCreated](t, cs, "create_ticket", newTicket, "k-create")
		require.Equal(t, created, okKeyed[supportdesk.TicketCreated](t, cs, "create_ticket", newTicket, "k-create"))
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.tickets WHERE subject = 'Lamp flickers'`))

		note := map[string]any{"ticket_id": created.TicketID, "internal_note": "Asked for a video."}
		updated := okKeyed[supportdesk.TicketUpdated](t, cs, "update_ticket", note, "k-note")
		require.Equal(t, updated, okKeyed[supportdesk.TicketUpdated](t, cs, "update_ticket", note, "k-note"))
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.ticket_comments WHERE ticket_id = $1`, created.TicketID))

		esc := map[string]any{"ticket_id": created.TicketID, "urgency": "high", "reason": "Fire hazard."}
		escalated := okKeyed[supportdesk.TicketEscalated](t, cs, "escalate_ticket", esc, "k-escalate")
		require.Equal(t, escalated, okKeyed[supportdesk.TicketEscalated](t, cs, "escalate_ticket", esc, "k-escalate"))
		require.Equal(t, int64(2), count(t, b, `SELECT count(*) FROM support.ticket_comments WHERE ticket_id = $1`, created.TicketID), "one note, one escalation")

		refund := map[string]any{"order_id": orderInWindow, "amount": 20, "reason": "Scratched."}
		r := okKeyed[supportdesk.Refund](t, cs, "issue_refund", refund, "k-refund")
		require.Equal(t, r, okKeyed[supportdesk.Refund](t, cs, "issue_refund", refund, "k-refund"))
		require.Equal(t, int64(1), refunds(t, b, orderInWindow))

		require.Equal(t, audits+4, count(t, b, `SELECT count(*) FROM support.audit`), "one audit row per change")

		// A key reused for another request is refused, and changes nothing.
		res := callKeyed(t, cs, "create_ticket", map[string]any{"customer_id": adaID, "subject": "Other", "description": "Other."}, "k-create")
		require.True(t, res.IsError)
		require.Contains(t, text(res), `idempotency key "k-create" was already used for another request (create_ticket with other arguments)`)
		res = callKeyed(t, cs, "update_ticket", newTicket, "k-create")
		require.True(t, res.IsError, "the key of another tool")

		// A refused change keeps no key: it may be tried again.
		res = callKeyed(t, cs, "update_ticket", map[string]any{"ticket_id": 7, "public_reply": "Hello again"}, "k-closed")
		require.True(t, res.IsError)
		require.Contains(t, text(res), "ticket 7 is closed")
		require.Zero(t, count(t, b, `SELECT count(*) FROM support.idempotency_keys WHERE key = 'k-closed'`))

		require.Equal(t, audits+4, count(t, b, `SELECT count(*) FROM support.audit`))
		require.Equal(t, int64(4), count(t, b, `SELECT count(*) FROM support.idempotency_keys`))
	})
}

// TestConcurrentCallsWithOneKeyChangeOnce: calls racing with one key wait
// for the first and answer its result.
func TestConcurrentCallsWithOneKeyChangeOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := supportdesk.Caller{Subject: "racer"}
	p := supportdesk.CreateTicketParams{CustomerID: adaID, Subject: "Race", Description: "Twice at once.", IdempotencyKey: "k-race"}
	const n = 8
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := b.desk.CreateTicket(context.Background(), c, p)
			if err == nil {
				ids[i] = out.TicketID
			}
		})
	}
	wg.Wait()
	for _, id := range ids {
		require.Equal(t, ids[0], id)
		require.NotZero(t, id)
	}
	require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.tickets WHERE subject = 'Race'`))
}

// TestKeysAreTheCallers: two callers' equal keys are two keys; a key that
// is not short printable text is refused.
func TestKeysAreTheCallers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	p := supportdesk.CreateTicketParams{CustomerID: adaID, Subject: "Mine", Description: "Mine.", IdempotencyKey: "k-1"}
	a, err := b.desk.CreateTicket(ctx, supportdesk.Caller{Subject: "alice"}, p)
	require.NoError(t, err)
	o, err := b.desk.CreateTicket(ctx, supportdesk.Caller{Subject: "bob"}, p)
	require.NoError(t, err)
	require.NotEqual(t, a.TicketID, o.TicketID)

	for _, key := range []string{strings.Repeat("k", supportdesk.MaxIdempotencyKeyLength+1), "k\x00", "k\xff"} {
		p.IdempotencyKey = key
		_, err := b.desk.CreateTicket(ctx, supportdesk.Caller{Subject: "alice"}, p)
		var de *supportdesk.Error
		require.ErrorAs(t, err, &de)
		require.Equal(t, supportdesk.KindInvalid, de.Kind)
	}
}

// TestARedeliveredStepMessageHasItsEffectOnce: an mcp step's message
// delivered twice (an SQS redelivery after a crash) creates one ticket,
// adds one note and refunds once; the step's key reaches the desk in
// _meta, and in issue_refund's request_id.
func TestARedeliveredStepMessageHasItsEffectOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	server, err := supportdesk.NewServer(b.desk, supportdesk.ServerOptions{LocalCaller: supportdesk.Caller{Subject: "workflow"}})
	require.NoError(t, err)
	pool, err := mcpclient.New(mcpclient.Options{InProcess: map[string]mcpclient.InProcessServer{"support": {Replicas: []mcpclient.ConnectFunc{
		func(ctx context.Context) (mcp.Transport, error) {
			ct, st := mcp.NewInMemoryTransports()
			if _, err := server.Connect(ctx, st, nil); err != nil {
				return nil, err
			}
			return ct, nil
		},
	}}}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, pool.Close()) })
	cb := &stepstest.Callbacks{}
	rt, err := steps.NewRuntime(steps.RuntimeConfig{Callbacks: cb, Handlers: map[string]steps.Handler{"mcp": steps.NewMCP(steps.MCPConfig{Pool: pool})}, HeartbeatInterval: -1})
	require.NoError(t, err)

	// deliver hands the step's message to the runtime twice and returns
	// its key and the two results.
	deliver := func(token, step, tool string, args map[string]any) (string, []string) {
		t.Helper()
		raw, err := json.Marshal(map[string]any{
			"version":   task.Version,
			"taskToken": token,
			"execution": map[string]any{"id": "arn:aws:states:us-east-1:123456789012:execution:support-triage:run-1", "name": "run-1"},
			"step":      map[string]any{"id": step, "kind": "mcp", "attempt": 0, "enteredTime": "2026-11-20T15:30:00.000Z"},
			"spec":      map[string]any{"server": "support", "tool": tool},
			"data":      map[string]any{"arguments": args},
		})
		require.NoError(t, err)
		m, err := task.Decode(string(raw))
		require.NoError(t, err)
		for range 2 {
			resp, err := rt.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: string(raw)}}})
			require.NoError(t, err)
			require.Empty(t, resp.BatchItemFailures)
		}
		var outs []string
		for _, s := range cb.Successes() {
			if s.TaskToken == token {
				outs = append(outs, s.Output)
			}
		}
		require.Len(t, outs, 2, "both deliveries succeeded (failures: %v)", cb.Failures())
		require.JSONEq(t, outs[0], outs[1], "the second delivery answers the first result")
		return m.IdempotencyKey(), outs
	}

	createKey, outs := deliver("t-create", "open_ticket", "create_ticket", map[string]any{"customer_id": adaID, "subject": "Redelivered", "description": "Crash after the call."})
	require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.tickets WHERE subject = 'Redelivered'`), "one ticket")
	require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.idempotency_keys WHERE actor = 'workflow' AND key = $1 AND tool = 'create_ticket'`, createKey),
		"the step's key reached the desk in _meta")
	var created struct {
		Output supportdesk.TicketCreated `json:"output"`
	}
	require.NoError(t, json.Unmarshal([]byte(outs[0]), &created))

	deliver("t-note", "note", "update_ticket", map[string]any{"ticket_id": created.Output.TicketID, "internal_note": "Customer called again."})
	require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.ticket_comments WHERE ticket_id = $1`, created.Output.TicketID), "one note")

	refundKey, _ := deliver("t-refund", "refund", "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 15, "reason": "Late."})
	require.Equal(t, int64(1), refunds(t, b, orderInWindow), "one refund")
	require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.refunds WHERE request_id = $1`, refundKey), "the key filled request_id")
}
