package supportdesk

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SeedCounts says how many rows of each kind Seed wrote (zero on a second
// run).
type SeedCounts struct {
	Customers, Orders, Tickets, Articles int64
}

// Seed fills the support schema with a store's worth of realistic data: a
// few dozen customers, orders in every state (some inside their refund
// window, some outside, one above the approval threshold, some partly or
// wholly refunded), open tickets and knowledge-base articles. Dates are
// relative to now. Every row has a fixed id and is inserted only when
// absent, so running Seed again changes nothing; the identity sequences are
// moved past the seeded ids.
func Seed(ctx context.Context, db *pgxpool.Pool, now time.Time) (SeedCounts, error) {
	now = now.UTC().Truncate(time.Second)
	var counts SeedCounts
	err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		// One seeder at a time: two concurrent runs would both see rows
		// missing and the second would fail on the primary keys.
		if _, err := tx.Exec(ctx, `LOCK TABLE support.customers IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("locking the customers table: %w", err)
		}
		batch := &pgx.Batch{}
		for i, c := range seedCustomers {
			id := int64(i + 1)
			var phone *string
			if c.phone != "" {
				phone = &c.phone
			}
			batch.Queue(`INSERT INTO support.customers (id, name, email, phone, tier, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				id, c.name, c.email, phone, c.tier, now.AddDate(0, -(3+i*2), -i)).Exec(func(ct pgconn.CommandTag) error {
				counts.Customers += ct.RowsAffected()
				return nil
			})
		}
		for _, o := range seedOrders(now) {
			batch.Queue(`INSERT INTO support.orders (id, customer_id, status, currency, total_cents, placed_at, delivered_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
				o.id, o.customerID, o.status, o.currency, o.total(), o.placedAt, o.deliveredAt).Exec(func(ct pgconn.CommandTag) error {
				counts.Orders += ct.RowsAffected()
				return nil
			})
			for line, it := range o.items {
				p := seedProducts[it.product]
				batch.Queue(`INSERT INTO support.order_items (order_id, line, sku, name, quantity, unit_price_cents) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
					o.id, line+1, p.sku, p.name, it.quantity, p.priceCents)
			}
			batch.Queue(`INSERT INTO support.shipments (order_id, status, carrier, tracking_number, estimated_delivery, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
				o.id, o.shipStatus, o.carrier(), o.tracking(), o.eta(), o.placedAt.Add(26*time.Hour))
			if o.paid() {
				batch.Queue(`INSERT INTO support.payments (id, order_id, amount_cents, method, paid_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
					o.id, o.id, o.total(), []string{"card", "card", "paypal", "card", "gift_card"}[o.id%5], o.placedAt.Add(2*time.Minute))
			}
			if o.refundCents > 0 {
				batch.Queue(`INSERT INTO support.refunds (id, order_id, request_id, amount_cents, reason, status, actor, created_at) VALUES ($1, $2, $3, $4, $5, 'completed', 'seed', $6) ON CONFLICT DO NOTHING`,
					o.id, o.id, fmt.Sprintf("seed-refund-%d", o.id), o.refundCents, o.refundReason, o.placedAt.Add(72*time.Hour))
			}
		}
		for i, t := range seedTickets {
			id := int64(i + 1)
			created := now.Add(-t.age)
			var orderID *int64
			if t.orderID != 0 {
				orderID = &t.orderID
			}
			batch.Queue(`
INSERT INTO support.tickets (id, customer_id, order_id, subject, description, category, channel, status, priority, assigned_team, sla_due_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) ON CONFLICT DO NOTHING`,
				id, t.customerID, orderID, t.subject, t.description, t.category, t.channel, t.status, t.priority, teams[t.category],
				created.Add(slaFor(t.priority, seedCustomers[t.customerID-1].tier)), created).Exec(func(ct pgconn.CommandTag) error {
				counts.Tickets += ct.RowsAffected()
				return nil
			})
		}
		for i, a := range seedArticles {
			batch.Queue(`INSERT INTO support.kb_articles (id, slug, title, body, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
				int64(i+1), a.slug, a.title, a.body, now.AddDate(0, 0, -(20+i*9))).Exec(func(ct pgconn.CommandTag) error {
				counts.Articles += ct.RowsAffected()
				return nil
			})
		}
		for _, table := range []string{"customers", "orders", "payments", "refunds", "tickets", "kb_articles"} {
			batch.Queue(fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('support.%[1]s', 'id'), greatest((SELECT max(id) FROM support.%[1]s), 1))`, table))
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("inserting the seed data: %w", err)
		}
		if counts.Customers+counts.Orders+counts.Tickets+counts.Articles == 0 {
			return nil
		}
		return audit(ctx, tx, now, Caller{Subject: "seed"}, "desk.seeded", "desk", 0, map[string]any{
			"customers": counts.Customers, "orders": counts.Orders, "tickets": counts.Tickets, "articles": counts.Articles,
		})
	})
	return counts, err
}
