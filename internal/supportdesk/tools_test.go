package supportdesk_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/supportdesk"
)

// The seed's showcase orders (see seeddata.go and docs/support-desk.md).
const (
	adaID            = 7
	orderInTransit   = 1042 // Ada's, shipped a week ago, 59.90 EUR
	orderInWindow    = 1043 // Ada's, delivered 10 days ago, 129.00 USD
	orderOutOfWindow = 1044 // Ada's, delivered 75 days ago
	orderLarge       = 1050 // customer 3's standing desk, 1249.00 USD
	orderPartly      = 1051 // customer 4's, 89.97 paid, 29.99 refunded
	orderUnpaid      = 1053 // customer 6's, not paid
)

func TestFindCustomer(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		c := ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"email": "ADA@example.com"})
		require.Equal(t, supportdesk.Customer{
			CustomerID: adaID, Name: "Ada Lovelace", Email: "ada@example.com", Tier: "plus",
			CreatedAt: c.CreatedAt, OpenTickets: 0, LifetimeValue: c.LifetimeValue, Phone: "+44 20 7946 0107",
		}, c)
		require.InDelta(t, float64(count(t, b, `SELECT sum(p.amount_cents) FROM support.payments p JOIN support.orders o ON o.id = p.order_id WHERE o.customer_id = 7`))/100, c.LifetimeValue, 1e-9)
		require.Greater(t, c.LifetimeValue, 59.90+129.00+89.97)
		require.Equal(t, "Ada Lovelace", ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"customer_id": adaID}).Name)
		require.Equal(t, int64(1), ok[supportdesk.Customer](t, cs, "find_customer", map[string]any{"customer_id": 2}).OpenTickets)

		require.Contains(t, fails(t, cs, "find_customer", map[string]any{"email": "nobody@example.com"}), `no customer matches email "nobody@example.com"`)
		require.Contains(t, fails(t, cs, "find_customer", map[string]any{"customer_id": 1, "email": "ada@example.com"}), "no customer matches customer_id 1 with email")
		require.Contains(t, fails(t, cs, "find_customer", map[string]any{"email": "not an address"}), "is not an email address")
	})
}

func TestGetOrder(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		o := ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderInTransit})
		require.Equal(t, int64(adaID), o.CustomerID)
		require.Equal(t, "shipped", o.Status)
		require.Equal(t, "EUR", o.Currency)
		require.InDelta(t, 59.90, o.Total, 1e-9)
		require.Zero(t, o.Refunded)
		require.Equal(t, []supportdesk.OrderItem{
			{SKU: "HAT-MER-01", Name: "Merino wool beanie", Quantity: 1, UnitPrice: 24.90},
			{SKU: "MUG-TRV-12", Name: "Insulated travel mug, 12 oz", Quantity: 1, UnitPrice: 35.00},
		}, o.Items)
		require.Equal(t, "in_transit", o.Shipping.Status)
		require.Equal(t, "DHL", o.Shipping.Carrier)
		require.NotEmpty(t, o.Shipping.TrackingNumber)
		require.True(t, o.RefundEligible, "an undelivered order is refundable within 30 days of being placed")
		require.Equal(t, o.PlacedAt.Add(30*24*time.Hour), *o.RefundWindowEnds)

		require.False(t, ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderOutOfWindow}).RefundEligible)
		partly := ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderPartly})
		require.InDelta(t, 29.99, partly.Refunded, 1e-9)
		require.True(t, partly.RefundEligible)
		require.False(t, ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": 1052}).RefundEligible, "fully refunded")
		unpaid := ok[supportdesk.Order](t, cs, "get_order", map[string]any{"order_id": orderUnpaid})
		require.False(t, unpaid.RefundEligible)
		require.Nil(t, unpaid.RefundWindowEnds)
		require.Equal(t, "not_shipped", unpaid.Shipping.Status)

		require.Contains(t, fails(t, cs, "get_order", map[string]any{"order_id": 99999}), "there is no order 99999")
	})
}

func TestSearchKB(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		// The query the support-triage example's scripted model sends.
		res := ok[supportdesk.KBResults](t, cs, "search_kb", map[string]any{"query": "where is my order shipping delay", "limit": 3})
		require.NotEmpty(t, res.Articles)
		require.LessOrEqual(t, len(res.Articles), 3)
		require.Equal(t, "Where is my order? Tracking a shipment and shipping delays", res.Articles[0].Title)
		require.Equal(t, supportdesk.DefaultKBURL+"where-is-my-order", res.Articles[0].URL)
		require.NotEmpty(t, res.Articles[0].Snippet)
		for i := 1; i < len(res.Articles); i++ {
			require.GreaterOrEqual(t, res.Articles[i-1].Rank, res.Articles[i].Rank, "best matches first")
		}

		// The default limit is 5; ranking puts the title match first.
		res = ok[supportdesk.KBResults](t, cs, "search_kb", map[string]any{"query": "refund"})
		require.LessOrEqual(t, len(res.Articles), 5)
		require.Equal(t, "Refund policy: how refunds work and how long they take", res.Articles[0].Title)

		// No article has every word: any of them will do.
		res = ok[supportdesk.KBResults](t, cs, "search_kb", map[string]any{"query": "my standing desk grinds and the unicorn sings"})
		require.Equal(t, "Standing desk troubleshooting: noise, stopping halfway, error codes", res.Articles[0].Title)

		require.Empty(t, ok[supportdesk.KBResults](t, cs, "search_kb", map[string]any{"query": "zeppelin"}).Articles)
		require.Contains(t, fails(t, cs, "search_kb", map[string]any{"query": "refund", "limit": 50}), "limit")
	})
}

func TestTickets(t *testing.T) {
	t.Parallel()
	forEachTransport(t, 0, func(t *testing.T, b *testBundle, cs *mcp.ClientSession) {
		audits := count(t, b, `SELECT count(*) FROM support.audit`)
		// A complaint of an enterprise customer: high, raised to urgent.
		created := ok[supportdesk.TicketCreated](t, cs, "create_ticket", map[string]any{
			"customer_id": 3, "subject": "Desk arrived scratched", "description": "The desktop has a deep scratch.", "category": "complaint", "order_id": orderLarge, "channel": "email",
		})
		require.Equal(t, "open", created.Status)
		require.Equal(t, "urgent", created.Priority)
		require.Equal(t, now, created.CreatedAt)
		require.Equal(t, supportdesk.DefaultTicketURL+itoa(created.TicketID), created.URL)
		require.Equal(t, int64(30), count(t, b, `SELECT extract(epoch FROM sla_due_at - created_at)::bigint / 60 FROM support.tickets WHERE id = $1`, created.TicketID),
			"an urgent ticket's SLA is one hour, halved for enterprise customers")
		require.Equal(t, audits+1, count(t, b, `SELECT count(*) FROM support.audit`))
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.audit WHERE action = 'ticket.created' AND entity_id = $1 AND actor <> ''`, itoa(created.TicketID)))

		// A ticket about another customer's order is refused.
		require.Contains(t, fails(t, cs, "create_ticket", map[string]any{"customer_id": adaID, "subject": "x", "description": "y", "order_id": orderLarge}), "customer 7 has no order 1050")
		require.Contains(t, fails(t, cs, "create_ticket", map[string]any{"customer_id": adaID, "subject": "   ", "description": "y"}), "subject is blank")

		upd := ok[supportdesk.TicketUpdated](t, cs, "update_ticket", map[string]any{"ticket_id": created.TicketID, "status": "pending", "internal_note": "Asked the warehouse for photos."})
		require.Equal(t, supportdesk.TicketUpdated{TicketID: created.TicketID, Status: "pending", UpdatedAt: now}, upd)
		require.Equal(t, int64(1), count(t, b, `SELECT count(*) FROM support.ticket_comments WHERE ticket_id = $1 AND kind = 'internal_note'`, created.TicketID))
		require.Contains(t, fails(t, cs, "update_ticket", map[string]any{"ticket_id": created.TicketID}), "minProperties")

		// Escalation raises the priority per urgency and never lowers it.
		low := ok[supportdesk.TicketCreated](t, cs, "create_ticket", map[string]any{"customer_id": adaID, "subject": "Pen nib size", "description": "Is the medium nib too wide?", "category": "product_question"})
		require.Equal(t, "low", low.Priority)
		esc := ok[supportdesk.TicketEscalated](t, cs, "escalate_ticket", map[string]any{"ticket_id": low.TicketID, "urgency": "high", "reason": "Customer is a reviewer."})
		require.Equal(t, supportdesk.TicketEscalated{TicketID: low.TicketID, Priority: "high", AssignedTeam: "product-specialists-escalations", SLAMinutes: 240, SLADueAt: now.Add(4 * time.Hour)}, esc)
		esc = ok[supportdesk.TicketEscalated](t, cs, "escalate_ticket", map[string]any{"ticket_id": low.TicketID, "urgency": "normal", "reason": "Follow-up."})
		require.Equal(t, "high", esc.Priority)
		esc = ok[supportdesk.TicketEscalated](t, cs, "escalate_ticket", map[string]any{"ticket_id": created.TicketID, "urgency": "critical", "reason": "Threatens a chargeback."})
		require.Equal(t, supportdesk.TicketEscalated{TicketID: created.TicketID, Priority: "urgent", AssignedTeam: "escalations-on-call", SLAMinutes: 30, SLADueAt: now.Add(30 * time.Minute)}, esc)

		// Seed ticket 7 is closed.
		require.Contains(t, fails(t, cs, "update_ticket", map[string]any{"ticket_id": 7, "public_reply": "Hello again"}), "ticket 7 is closed")
		require.Contains(t, fails(t, cs, "escalate_ticket", map[string]any{"ticket_id": 7, "urgency": "high", "reason": "r"}), "ticket 7 is closed")
		require.Contains(t, fails(t, cs, "escalate_ticket", map[string]any{"ticket_id": 7, "urgency": "extreme", "reason": "r"}), "urgency")
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
