package supportdesk_test

import (
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/supportdesk"
)

// TestCustomerScope calls every tool as a caller scoped to Ada (a customer
// token over HTTP, a customer-scoped local caller otherwise): her data is
// served, anyone else's does not exist.
func TestCustomerScope(t *testing.T) {
	t.Parallel()
	forEachTransport(t, adaID, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		require.Equal(t, int64(adaID), ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"email": "ada@example.com"}).CustomerID)
		require.Contains(t, fails(t, cs, "find_customer", map[string]any{"customer_id": 1}), "no customer matches customer_id 1")
		require.Contains(t, fails(t, cs, "find_customer", map[string]any{"email": "grace.hopper@example.com"}), "no customer matches")

		require.Equal(t, int64(orderInTransit), ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderInTransit}).OrderID)
		require.Contains(t, fails(t, cs, "get_order", map[string]any{"order_id": orderLarge}), "there is no order 1050")

		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderLarge, "amount": 1, "reason": "Mine now."}), "there is no order 1050")
		require.Zero(t, refunds(t, b, orderLarge))
		ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 1, "reason": "Scratch.", "request_id": "ada-1"})
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.audit WHERE action = 'refund.issued' AND (detail->>'caller_customer_id')::bigint = 7`))

		require.Contains(t, fails(t, cs, "create_ticket", map[string]any{"customer_id": 1, "subject": "s", "description": "d"}), "there is no customer 1")
		created := ok[supportdesk.TicketCreated](t, cs, "create_ticket", map[string]any{"customer_id": adaID, "subject": "Where is 1042?", "description": "A week.", "order_id": orderInTransit})
		ok[supportdesk.TicketUpdated](t, cs, "update_ticket", map[string]any{"ticket_id": created.TicketID, "public_reply": "Thanks!"})
		// Seed ticket 1 is customer 2's.
		require.Contains(t, fails(t, cs, "update_ticket", map[string]any{"ticket_id": 1, "status": "solved"}), "there is no ticket 1")
		require.Contains(t, fails(t, cs, "escalate_ticket", map[string]any{"ticket_id": 1, "urgency": "critical", "reason": "r"}), "there is no ticket 1")
		require.Equal(t, "open", countString(t, b, `SELECT status FROM support.tickets WHERE id = 1`))
	})
}

// TestInvalidArguments: whatever the arguments, the answer is a tool error
// the model can read, and the server keeps serving.
func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		for _, c := range []struct {
			tool string
			args map[string]any
			want string
		}{
			{"get_order", map[string]any{"order_id": 1042, "include_secrets": true}, "include_secrets"},
			{"get_order", map[string]any{"order_id": "1042"}, "order_id"},
			{"get_order", map[string]any{"order_id": 10.5}, "order_id"},
			{"get_order", map[string]any{"order_id": 0}, "minimum"},
			{"get_order", map[string]any{}, "order_id"},
			{"find_customer", map[string]any{}, "minProperties"},
			{"search_kb", map[string]any{"query": ""}, "query"},
			{"search_kb", map[string]any{"query": "x", "limit": 0}, "limit"},
			{"create_ticket", map[string]any{"customer_id": 7, "subject": "s", "description": "d", "category": "billing"}, "category"},
			{"issue_refund", map[string]any{"order_id": 1043, "amount": -5, "reason": "r"}, "amount"},
			{"issue_refund", map[string]any{"order_id": 1043, "amount": 0, "reason": "r"}, "amount"},
			{"issue_refund", map[string]any{"order_id": 1043, "amount": 5}, "reason"},
			{"issue_refund", map[string]any{"order_id": 1043, "amount": 5, "reason": "r", "request_id": ""}, "request_id"},
			{"issue_refund", map[string]any{"order_id": 1043, "amount": 5, "reason": "r", "approved": true}, "approved"},
			{"escalate_ticket", map[string]any{"ticket_id": 1, "urgency": "high"}, "reason"},
		} {
			msg := fails(t, cs, c.tool, c.args)
			require.Contains(t, msg, c.want, "%s(%v)", c.tool, c.args)
		}
		require.Zero(t, count(t, b, `SELECT count(*) FROM support.refunds WHERE actor <> 'seed'`))
		// Still serving.
		require.Equal(t, "Ada Lovelace", ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"customer_id": adaID}).Name)
		_, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "drop_tables", Arguments: map[string]any{}})
		require.Error(t, err, "an unknown tool is a protocol error, as MCP says")
	})
}

// TestInternalErrorIsAToolError: with the database gone, a call is a tool
// error that tells nothing of the cause, and the session lives on.
func TestInternalErrorIsAToolError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cs := connectMemory(t, b, 0)
	b.pool.Close()
	msg := fails(t, cs, "find_customer", map[string]any{"customer_id": adaID})
	require.Equal(t, "the support desk could not complete this request because of an internal error; try again later", msg)
	msg = fails(t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 1, "reason": "r"})
	require.Contains(t, msg, "internal error")
	require.NoError(t, cs.Ping(t.Context(), nil))
}
