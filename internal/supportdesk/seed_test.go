package supportdesk_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
	"github.com/aiflow/aiflow/internal/supportdesk"
)

// fingerprint digests every seeded table, so two states can be compared.
func fingerprint(t *testing.T, pool *pgxpool.Pool) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, table := range []string{"customers", "orders", "order_items", "shipments", "payments", "refunds", "tickets", "ticket_comments", "kb_articles"} {
		var digest string
		require.NoError(t, pool.QueryRow(context.Background(),
			`SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM support.`+table+` t`).Scan(&digest))
		out[table] = digest
	}
	return out
}

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgclustertest.Pool(t)
	ctx := context.Background()
	counts, err := supportdesk.Seed(ctx, pool, now)
	require.NoError(t, err)
	require.Equal(t, supportdesk.SeedCounts{Customers: 36, Orders: 9 + 72, Tickets: 8, Articles: 12}, counts)
	first := fingerprint(t, pool)

	// Again, later: nothing changes.
	counts, err = supportdesk.Seed(ctx, pool, now.Add(48*time.Hour))
	require.NoError(t, err)
	require.Zero(t, counts)
	require.Equal(t, first, fingerprint(t, pool))
	require.Equal(t, int64(1), countIn(t, pool, `SELECT count(*) FROM support.audit WHERE action = 'desk.seeded'`))

	// New rows get ids past the seeded ones.
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO support.customers (name, email, created_at) VALUES ('New', 'new@example.com', now()) RETURNING id`).Scan(&id))
	require.Equal(t, int64(37), id)

	// Every seeded order's total is the sum of its items, and what was paid
	// is either nothing or the total.
	require.Zero(t, countIn(t, pool, `
SELECT count(*) FROM support.orders o
WHERE o.total_cents <> (SELECT sum(quantity * unit_price_cents) FROM support.order_items WHERE order_id = o.id)
   OR coalesce((SELECT sum(amount_cents) FROM support.payments WHERE order_id = o.id), 0) NOT IN (0, o.total_cents)`))
}

func countIn(t *testing.T, pool *pgxpool.Pool, query string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, pool.QueryRow(context.Background(), query).Scan(&n))
	return n
}
