package supportdesk_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/supportdesk"
)

func refunds(t *testing.T, b *testBundle, order int64) int64 {
	t.Helper()
	return count(t, b, `SELECT count(*) FROM support.refunds WHERE order_id = $1`, order)
}

func audits(t *testing.T, b *testBundle) int64 {
	t.Helper()
	return count(t, b, `SELECT count(*) FROM support.audit`)
}

func TestRefundOnlyWithinWindow(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		before := audits(t, b)
		msg := fails(t, cs, "issue_refund", map[string]any{"order_id": orderOutOfWindow, "amount": 10, "reason": "Lamp flickers."})
		require.Contains(t, msg, "order 1044 is outside its refund window, which ended ")
		require.Zero(t, refunds(t, b, orderOutOfWindow))
		require.Equal(t, before, audits(t, b), "a refused change writes nothing, not even an audit row")

		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderUnpaid, "amount": 10, "reason": "r"}), "order 1053 has no payment to refund")

		r := ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 129, "reason": "Zip broke."})
		require.Equal(t, supportdesk.Refund{RefundID: r.RefundID, OrderID: orderInWindow, Amount: 129, Currency: "USD", Status: "completed", ProcessedAt: now}, r)
		require.Equal(t, before+1, audits(t, b))
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.audit WHERE action = 'refund.issued' AND entity_id = '1043' AND detail->>'refund_id' = $1`, r.RefundID))

		// A parcel still on its way is refunded once it comes back.
		require.Equal(t, "pending", ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInTransit, "amount": 24.90, "reason": "Wrong colour."}).Status)
	})
}

func TestRefundNeverAboveWhatIsLeft(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		msg := fails(t, cs, "issue_refund", map[string]any{"order_id": orderPartly, "amount": 60, "reason": "All shirts."})
		require.Contains(t, msg, "refund of 60.00 USD is more than the 59.98 USD left to refund on order 1051 (paid 89.97, refunded 29.99)")
		ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderPartly, "amount": 59.98, "reason": "The other two shirts."})
		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderPartly, "amount": 0.01, "reason": "A cent more."}), "0.00 USD left to refund")
		require.False(t, ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderPartly}).RefundEligible)
		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 1.005, "reason": "r"}), "more than two decimals")
	})
}

func TestRefundApprovalAboveThreshold(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		msg := fails(t, cs, "issue_refund", map[string]any{"order_id": orderLarge, "amount": 1249, "reason": "Motor grinds."})
		require.Contains(t, msg, "a refund above 500.00 USD needs an approval_reference")
		require.Zero(t, refunds(t, b, orderLarge))
		// At the threshold itself no approval is needed.
		ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderLarge, "amount": 500, "reason": "Partial: scratched top."})
		r := ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderLarge, "amount": 749, "reason": "Motor grinds.", "approval_reference": "lead:maria (ticket 5)"})
		require.Equal(t, 749.0, r.Amount)
		require.Equal(t, "lead:maria (ticket 5)", countString(t, b, `SELECT approval_reference FROM support.refunds WHERE id = $1`, refundNumber(r.RefundID)))
	})
}

func countString(t *testing.T, b *testBundle, query string, args ...any) string {
	t.Helper()
	var s string
	require.NoError(t, b.pool.QueryRow(context.Background(), query, args...).Scan(&s))
	return s
}

func refundNumber(id string) int64 {
	var n int64
	_, _ = fmt.Sscanf(id, "RF-%d", &n)
	return n
}

func TestRefundOncePerRequestID(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		first := ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 10, "reason": "Scuffed.", "request_id": "exec-1"})
		// The same request again, even with other arguments, returns the
		// first result and refunds nothing more.
		again := ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 99, "reason": "Scuffed!", "request_id": "exec-1"})
		require.Equal(t, first, again)
		require.Equal(t, int64(1), refunds(t, b, orderInWindow))
		// The customer the caller acts for must own the order.
		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "customer_id": 8, "amount": 1, "reason": "r"}), "customer 8 has no order 1043")
		require.Equal(t, first, ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "customer_id": adaID, "amount": 10, "reason": "Scuffed.", "request_id": "exec-1"}))
		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "customer_id": 8, "amount": 10, "reason": "Scuffed.", "request_id": "exec-1"}), "already used")
		// ... and a request id belongs to its order.
		require.Contains(t, fails(t, cs, "issue_refund", map[string]any{"order_id": orderInTransit, "amount": 1, "reason": "r", "request_id": "exec-1"}), `request_id "exec-1" was already used for another refund`)

		// Racing requests with one id make one refund, and all get it.
		var wg sync.WaitGroup
		results := make([]supportdesk.Refund, 8)
		for i := range results {
			wg.Go(func() {
				results[i] = ok[supportdesk.Refund](t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 5, "reason": "Race.", "request_id": "exec-race"})
			})
		}
		wg.Wait()
		for _, r := range results {
			require.Equal(t, results[0], r)
		}
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.refunds WHERE request_id = 'exec-race'`))
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.audit WHERE action = 'refund.issued' AND detail->>'request_id' = 'exec-race'`))

		// One id racing for two orders: one refund; the other request is told
		// the id is taken.
		errs := make([]bool, 2)
		for i, order := range []int64{orderInWindow, orderInTransit} {
			wg.Go(func() {
				errs[i] = call(t, cs, "issue_refund", map[string]any{"order_id": order, "amount": 1, "reason": "Race.", "request_id": "exec-two-orders"}).IsError
			})
		}
		wg.Wait()
		require.ElementsMatch(t, []bool{false, true}, errs)
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.refunds WHERE request_id = 'exec-two-orders'`))
	})
}

// TestConcurrentRefundsNeverExceedPaid races refunds with distinct request
// ids: the order's lock makes them take turns, so they stop at what was
// paid.
func TestConcurrentRefundsNeverExceedPaid(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		succeeded := 0
		for i := range 10 {
			wg.Go(func() {
				res := call(t, cs, "issue_refund", map[string]any{"order_id": orderInWindow, "amount": 20, "reason": "Race.", "request_id": fmt.Sprintf("race-%d", i)})
				if !res.IsError {
					mu.Lock()
					succeeded++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		require.Equal(t, 6, succeeded, "129.00 paid: six refunds of 20.00 fit, the seventh does not")
		require.Equal(t, int64(120_00), count(t, b, `SELECT sum(amount_cents) FROM support.refunds WHERE order_id = $1`, orderInWindow))
	})
}
