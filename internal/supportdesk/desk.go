package supportdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/mail"
	"strings"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Kinds of Error.
const (
	// KindInvalid is an argument that breaks a rule the schema cannot say.
	KindInvalid = "invalid_argument"
	// KindNotFound is a customer, order or ticket that does not exist or
	// that the caller may not see.
	KindNotFound = "not_found"
	// KindRefused is a request that breaks a business rule.
	KindRefused = "refused"
)

// Error is a refusal a caller can act on: a bad argument, something not
// found, or a broken business rule. Its message is written for the model
// that called the tool and never holds internal details.
type Error struct {
	// Kind is KindInvalid, KindNotFound or KindRefused.
	Kind string
	// Message says what was wrong and, where it helps, what to do.
	Message string
}

// Error returns the message, as the tool error's text.
func (e *Error) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &Error{Kind: KindNotFound, Message: fmt.Sprintf(format, args...)}
}

func refused(format string, args ...any) error {
	return &Error{Kind: KindRefused, Message: fmt.Sprintf(format, args...)}
}

// Caller is who calls a tool. A Caller with a CustomerID acts for that
// customer only: anything of another customer is "not found" to it. A
// Caller without one is a support agent (or a workflow acting as one) and
// may name any customer; an explicit customer_id argument then narrows it.
type Caller struct {
	// Subject names the caller in audit rows: a token's subject, or
	// "local" for the stdio transport.
	Subject string
	// CustomerID is the one customer the caller acts for; 0 means any.
	CustomerID int64
}

// Rules are the business rules' settings.
type Rules struct {
	// RefundWindow is how long after delivery (or after the order was
	// placed, when it was not delivered) a refund may be issued.
	RefundWindow time.Duration
	// ApprovalThresholdCents is the refund amount, in cents of the order's
	// currency, above which an approval reference is required.
	ApprovalThresholdCents int64
}

// DefaultRules are 30 days to ask for a refund and an approval above 500.00.
var DefaultRules = Rules{RefundWindow: 30 * 24 * time.Hour, ApprovalThresholdCents: 500_00}

// Options configure a Desk.
type Options struct {
	// Rules are the business rules; zero fields take DefaultRules' values.
	Rules Rules
	// NowFunc is the clock; nil means time.Now.
	NowFunc func() time.Time
	// TicketURL is the base of tickets' links: a ticket's url is TicketURL
	// followed by its id.
	TicketURL string
	// KBURL is the base of knowledge-base articles' links, followed by the
	// article's slug.
	KBURL string
}

// Desk is the support desk: the domain's reads and changes, with its rules,
// on the `support` schema.
//
// Every change (CreateTicket, UpdateTicket, EscalateTicket, IssueRefund)
// honours an idempotency key, its params' IdempotencyKey: the first call
// with a caller's key changes and keeps its result under the key, in the
// change's transaction (support.idempotency_keys); a later call with the
// same key and request changes nothing and answers that result, even
// while the first is still running (it waits for it); the same key with
// another request is refused. A change that failed keeps nothing, so its
// key may be tried again. A step redelivered or retried with its key so
// has its effect once.
type Desk struct {
	db        *pgxpool.Pool
	rules     Rules
	now       func() time.Time
	ticketURL string
	kbURL     string
}

// New returns a Desk on db.
func New(db *pgxpool.Pool, opts Options) *Desk {
	d := &Desk{db: db, rules: opts.Rules, now: opts.NowFunc, ticketURL: opts.TicketURL, kbURL: opts.KBURL}
	if d.rules.RefundWindow <= 0 {
		d.rules.RefundWindow = DefaultRules.RefundWindow
	}
	if d.rules.ApprovalThresholdCents <= 0 {
		d.rules.ApprovalThresholdCents = DefaultRules.ApprovalThresholdCents
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.ticketURL == "" {
		d.ticketURL = DefaultTicketURL
	}
	if d.kbURL == "" {
		d.kbURL = DefaultKBURL
	}
	return d
}

// Default link bases, for a desk that has no site of its own.
const (
	DefaultTicketURL = "https://support.example.com/tickets/"
	DefaultKBURL     = "https://support.example.com/help/"
)

// clock returns the current time at the database's precision.
func (d *Desk) clock() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

// Customer is find_customer's result.
type Customer struct {
	CustomerID    int64     `json:"customer_id"`
	Name          string    `json:"name"`
	Email         string    `json:"email"`
	Tier          string    `json:"tier"`
	CreatedAt     time.Time `json:"created_at"`
	OpenTickets   int64     `json:"open_tickets"`
	LifetimeValue float64   `json:"lifetime_value"`
	Phone         string    `json:"phone,omitempty"`
}

// FindCustomerParams are find_customer's arguments: one of the two, or both
// when they name the same customer.
type FindCustomerParams struct {
	CustomerID int64  `json:"customer_id,omitempty"`
	Email      string `json:"email,omitempty"`
}

// FindCustomer returns the customer with p's id or email. It returns an
// *Error of KindNotFound when there is none the caller may see.
func (d *Desk) FindCustomer(ctx context.Context, c Caller, p FindCustomerParams) (Customer, error) {
	if p.CustomerID == 0 && p.Email == "" {
		return Customer{}, invalid("give customer_id or email")
	}
	if p.Email != "" {
		if err := checkEmail(p.Email); err != nil {
			return Customer{}, err
		}
	}
	var cu Customer
	var phone *string
	var lifetime int64
	err := d.db.QueryRow(ctx, `
SELECT c.id, c.name, c.email, c.tier, c.created_at, c.phone,
       (SELECT count(*) FROM support.tickets t WHERE t.customer_id = c.id AND t.status IN ('open', 'pending')),
       coalesce((SELECT sum(p.amount_cents) FROM support.payments p JOIN support.orders o ON o.id = p.order_id WHERE o.customer_id = c.id), 0)
     - coalesce((SELECT sum(r.amount_cents) FROM support.refunds r JOIN support.orders o ON o.id = r.order_id WHERE o.customer_id = c.id), 0)
FROM support.customers c
WHERE ($1 = 0 OR c.id = $1) AND ($2 = '' OR lower(c.email) = lower($2))`,
		p.CustomerID, p.Email).Scan(&cu.CustomerID, &cu.Name, &cu.Email, &cu.Tier, &cu.CreatedAt, &phone, &cu.OpenTickets, &lifetime)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !c.mayActFor(cu.CustomerID)) {
		return Customer{}, notFound("no customer matches %s", describeCustomerQuery(p))
	}
	if err != nil {
		return Customer{}, fmt.Errorf("finding customer: %w", err)
	}
	if phone != nil {
		cu.Phone = *phone
	}
	cu.CreatedAt = cu.CreatedAt.UTC()
	cu.LifetimeValue = toUnits(max(lifetime, 0))
	return cu, nil
}

func describeCustomerQuery(p FindCustomerParams) string {
	switch {
	case p.CustomerID != 0 && p.Email != "":
		return fmt.Sprintf("customer_id %d with email %q", p.CustomerID, p.Email)
	case p.CustomerID != 0:
		return fmt.Sprintf("customer_id %d", p.CustomerID)
	}
	return fmt.Sprintf("email %q", p.Email)
}

func (c Caller) mayActFor(customerID int64) bool {
	return c.CustomerID == 0 || c.CustomerID == customerID
}

func checkEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return invalid("email %q is not an email address", s)
	}
	return nil
}

// OrderItem is one line of an order.
type OrderItem struct {
	SKU       string  `json:"sku"`
	Name      string  `json:"name"`
	Quantity  int64   `json:"quantity"`
	UnitPrice float64 `json:"unit_price"`
}

// Shipping is an order's shipment.
type Shipping struct {
	Status            string `json:"status"`
	Carrier           string `json:"carrier,omitempty"`
	TrackingNumber    string `json:"tracking_number,omitempty"`
	EstimatedDelivery string `json:"estimated_delivery,omitempty"`
}

// Order is get_order's result.
type Order struct {
	OrderID          int64       `json:"order_id"`
	CustomerID       int64       `json:"customer_id"`
	Status           string      `json:"status"`
	PlacedAt         time.Time   `json:"placed_at"`
	Currency         string      `json:"currency"`
	Total            float64     `json:"total"`
	Refunded         float64     `json:"refunded"`
	Items            []OrderItem `json:"items"`
	Shipping         Shipping    `json:"shipping"`
	RefundEligible   bool        `json:"refund_eligible"`
	RefundWindowEnds *time.Time  `json:"refund_window_ends,omitempty"`
}

// GetOrderParams are get_order's arguments.
type GetOrderParams struct {
	OrderID int64 `json:"order_id"`
}

// orderRow is what the refund rules need of an order.
type orderRow struct {
	id, customerID         int64
	status, currency       string
	totalCents             int64
	placedAt               time.Time
	deliveredAt            *time.Time
	paidCents, refundCents int64
}

// refundableCents is what may still be refunded.
func (o orderRow) refundableCents() int64 { return o.paidCents - o.refundCents }

// windowEnds is when the order's refund window closes.
func (o orderRow) windowEnds(window time.Duration) time.Time {
	from := o.placedAt
	if o.deliveredAt != nil {
		from = *o.deliveredAt
	}
	return from.Add(window).UTC()
}

const orderColumns = `o.id, o.customer_id, o.status, o.currency, o.total_cents, o.placed_at, o.delivered_at,
       coalesce((SELECT sum(amount_cents) FROM support.payments WHERE order_id = o.id), 0),
       coalesce((SELECT sum(amount_cents) FROM support.refunds WHERE order_id = o.id), 0)`

func scanOrder(row pgx.Row) (orderRow, error) {
	var o orderRow
	err := row.Scan(&o.id, &o.customerID, &o.status, &o.currency, &o.totalCents, &o.placedAt, &o.deliveredAt, &o.paidCents, &o.refundCents)
	return o, err
}

// loadOrder reads an order the caller may see, for the customer the
// arguments name (0: any). With lock, the order's row stays locked until
// the transaction ends, so that refunds of one order happen one at a time.
func (d *Desk) loadOrder(ctx context.Context, q pgx.Tx, c Caller, orderID, customerID int64, lock bool) (orderRow, error) {
	if lock {
		// Lock first, then read in a new statement: in READ COMMITTED a
		// statement that waited for the lock would still compute the sums
		// of payments and refunds from its snapshot taken before the wait.
		_, err := q.Exec(ctx, `SELECT 1 FROM support.orders WHERE id = $1 FOR UPDATE`, orderID)
		if err != nil {
			return orderRow{}, fmt.Errorf("locking order %d: %w", orderID, err)
		}
	}
	query := `SELECT ` + orderColumns + ` FROM support.orders o WHERE o.id = $1`
	var row pgx.Row
	if q != nil {
		row = q.QueryRow(ctx, query, orderID)
	} else {
		row = d.db.QueryRow(ctx, query, orderID)
	}
	o, err := scanOrder(row)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (!c.mayActFor(o.customerID) || (customerID != 0 && o.customerID != customerID))) {
		if customerID != 0 {
			return orderRow{}, notFound("customer %d has no order %d", customerID, orderID)
		}
		return orderRow{}, notFound("there is no order %d", orderID)
	}
	if err != nil {
		return orderRow{}, fmt.Errorf("reading order %d: %w", orderID, err)
	}
	return o, nil
}

// GetOrder returns an order with its items, shipping and refund
// eligibility. It returns an *Error of KindNotFound when the order does not
// exist or is not the caller's.
func (d *Desk) GetOrder(ctx context.Context, c Caller, p GetOrderParams) (Order, error) {
	o, err := d.loadOrder(ctx, nil, c, p.OrderID, 0, false)
	if err != nil {
		return Order{}, err
	}
	out := Order{
		OrderID:    o.id,
		CustomerID: o.customerID,
		Status:     o.status,
		PlacedAt:   o.placedAt.UTC(),
		Currency:   o.currency,
		Total:      toUnits(o.totalCents),
		Refunded:   toUnits(o.refundCents),
		Items:      []OrderItem{},
		Shipping:   Shipping{Status: "not_shipped"},
	}
	rows, err := d.db.Query(ctx, `SELECT sku, name, quantity, unit_price_cents FROM support.order_items WHERE order_id = $1 ORDER BY line`, o.id)
	if err != nil {
		return Order{}, fmt.Errorf("reading the items of order %d: %w", o.id, err)
	}
	for rows.Next() {
		var it OrderItem
		var price int64
		if err := rows.Scan(&it.SKU, &it.Name, &it.Quantity, &price); err != nil {
			rows.Close()
			return Order{}, fmt.Errorf("reading the items of order %d: %w", o.id, err)
		}
		it.UnitPrice = toUnits(price)
		out.Items = append(out.Items, it)
	}
	if err := rows.Err(); err != nil {
		return Order{}, fmt.Errorf("reading the items of order %d: %w", o.id, err)
	}
	var carrier, tracking *string
	var eta *time.Time
	err = d.db.QueryRow(ctx, `SELECT status, carrier, tracking_number, estimated_delivery FROM support.shipments WHERE order_id = $1`, o.id).
		Scan(&out.Shipping.Status, &carrier, &tracking, &eta)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Order{}, fmt.Errorf("reading the shipment of order %d: %w", o.id, err)
	}
	if carrier != nil {
		out.Shipping.Carrier = *carrier
	}
	if tracking != nil {
		out.Shipping.TrackingNumber = *tracking
	}
	if eta != nil {
		out.Shipping.EstimatedDelivery = eta.Format(time.DateOnly)
	}
	if o.paidCents > 0 {
		ends := o.windowEnds(d.rules.RefundWindow)
		out.RefundWindowEnds = &ends
		out.RefundEligible = d.clock().Before(ends) && o.refundableCents() > 0
	}
	return out, nil
}

func toUnits(c int64) float64 { return float64(c) / 100 }

// toCents turns an amount in currency units into cents, refusing fractions
// of a cent.
func toCents(amount float64) (int64, error) {
	c := math.Round(amount * 100)
	if math.IsNaN(amount) || math.IsInf(amount, 0) || math.Abs(amount*100-c) > 1e-6 {
		return 0, invalid("amount %v has more than two decimals", amount)
	}
	return int64(c), nil
}

// KBArticle is one search_kb hit.
type KBArticle struct {
	ArticleID int64   `json:"article_id"`
	Title     string  `json:"title"`
	URL       string  `json:"url"`
	Snippet   string  `json:"snippet"`
	Rank      float64 `json:"rank"`
}

// KBResults is search_kb's result.
type KBResults struct {
	Articles []KBArticle `json:"articles"`
}

// SearchKBParams are search_kb's arguments.
type SearchKBParams struct {
	Query string `json:"query"`
	Limit int    `json:"limit,omitempty"`
}

// SearchKB runs a full-text search of the knowledge base (web-search
// syntax: words, "quoted phrases", -exclusions, or) and returns the best
// matches by ts_rank, at most p.Limit (default 5, at most 20).
func (d *Desk) SearchKB(ctx context.Context, p SearchKBParams) (KBResults, error) {
	if strings.TrimSpace(p.Query) == "" {
		return KBResults{}, invalid("query is empty")
	}
	if p.Limit == 0 {
		p.Limit = 5
	}
	if p.Limit < 1 || p.Limit > 20 {
		return KBResults{}, invalid("limit %d is not between 1 and 20", p.Limit)
	}
	out := KBResults{Articles: []KBArticle{}}
	// Every word first; when no article has them all, any of them, still
	// ranked by how well each article matches.
	for _, q := range []string{
		`websearch_to_tsquery('english', $1)`,
		`(SELECT to_tsquery('simple', coalesce(string_agg(quote_literal(l), ' | '), '')) FROM unnest(tsvector_to_array(to_tsvector('english', $1))) l)`,
	} {
		if err := d.searchKB(ctx, q, p, &out); err != nil {
			return KBResults{}, err
		}
		if len(out.Articles) > 0 {
			break
		}
	}
	return out, nil
}

func (d *Desk) searchKB(ctx context.Context, tsquery string, p SearchKBParams, out *KBResults) error {
	rows, err := d.db.Query(ctx, `
SELECT a.id, a.title, a.slug,
       ts_headline('english', a.body, q, 'MaxWords=30, MinWords=12, MaxFragments=2, StartSel="", StopSel="", FragmentDelimiter=" … "'),
       ts_rank(a.search, q)
FROM support.kb_articles a, (SELECT `+tsquery+` AS q) query
WHERE a.search @@ q
ORDER BY 5 DESC, a.id
LIMIT $2`, p.Query, p.Limit)
	if err != nil {
		return fmt.Errorf("searching the knowledge base: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a KBArticle
		var slug string
		var rank float32
		if err := rows.Scan(&a.ArticleID, &a.Title, &slug, &a.Snippet, &rank); err != nil {
			return fmt.Errorf("searching the knowledge base: %w", err)
		}
		a.URL = d.kbURL + slug
		a.Rank = math.Round(float64(rank)*1e6) / 1e6
		out.Articles = append(out.Articles, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("searching the knowledge base: %w", err)
	}
	return nil
}

// CreateTicketParams are create_ticket's arguments.
type CreateTicketParams struct {
	CustomerID  int64  `json:"customer_id"`
	Subject     string `json:"subject"`
	Description string `json:"description"`
	Category    string `json:"category,omitempty"`
	OrderID     int64  `json:"order_id,omitempty"`
	Channel     string `json:"channel,omitempty"`
	// IdempotencyKey, when set, makes the change once per caller and key:
	// a repeated key answers the first result (see Desk). The MCP server
	// takes it from the call's _meta, never from the arguments.
	IdempotencyKey string `json:"-"`
}

// TicketCreated is create_ticket's result.
type TicketCreated struct {
	TicketID  int64     `json:"ticket_id"`
	Status    string    `json:"status"`
	Priority  string    `json:"priority"`
	CreatedAt time.Time `json:"created_at"`
	URL       string    `json:"url"`
}

// priorities in rising order.
var priorities = []string{"low", "normal", "high", "urgent"}

func priorityLevel(p string) int {
	for i, q := range priorities {
		if q == p {
			return i
		}
	}
	return 1
}

// slaFor is how long the desk has to answer a ticket of a priority; an
// enterprise customer gets half of it.
func slaFor(priority, tier string) time.Duration {
	sla := map[string]time.Duration{"urgent": time.Hour, "high": 4 * time.Hour, "normal": 24 * time.Hour, "low": 72 * time.Hour}[priority]
	if tier == "enterprise" {
		sla /= 2
	}
	return sla
}

// teams own the categories of tickets.
var teams = map[string]string{
	"refund":           "billing",
	"order_status":     "logistics",
	"product_question": "product-specialists",
	"complaint":        "customer-relations",
	"other":            "general-support",
}

// initialPriority follows from the category, one level higher for an
// enterprise customer.
func initialPriority(category, tier string) string {
	level := map[string]int{"product_question": 0, "other": 1, "order_status": 1, "refund": 1, "complaint": 2}[category]
	if tier == "enterprise" && level < 3 {
		level++
	}
	return priorities[level]
}

// CreateTicket opens a ticket for a customer, about one of their orders
// when p.OrderID is set. The priority, the team and the SLA follow from the
// category and the customer's tier.
func (d *Desk) CreateTicket(ctx context.Context, c Caller, p CreateTicketParams) (TicketCreated, error) {
	if p.Category == "" {
		p.Category = "other"
	}
	if p.Channel == "" {
		p.Channel = "web"
	}
	if err := nonBlank("subject", p.Subject); err != nil {
		return TicketCreated{}, err
	}
	if err := nonBlank("description", p.Description); err != nil {
		return TicketCreated{}, err
	}
	if _, ok := teams[p.Category]; !ok {
		return TicketCreated{}, invalid("category %q is not one of refund, order_status, product_question, complaint, other", p.Category)
	}
	var out TicketCreated
	err := d.once(ctx, c, keyedChange{"create_ticket", p.IdempotencyKey, p}, &out, func(tx pgx.Tx) error {
		var tier string
		err := tx.QueryRow(ctx, `SELECT tier FROM support.customers WHERE id = $1`, p.CustomerID).Scan(&tier)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !c.mayActFor(p.CustomerID)) {
			return notFound("there is no customer %d", p.CustomerID)
		}
		if err != nil {
			return fmt.Errorf("reading customer %d: %w", p.CustomerID, err)
		}
		var orderID *int64
		if p.OrderID != 0 {
			if _, err := d.loadOrder(ctx, tx, c, p.OrderID, p.CustomerID, false); err != nil {
				return err
			}
			orderID = &p.OrderID
		}
		now := d.clock()
		out = TicketCreated{Status: "open", Priority: initialPriority(p.Category, tier), CreatedAt: now}
		err = tx.QueryRow(ctx, `
INSERT INTO support.tickets (customer_id, order_id, subject, description, category, channel, status, priority, assigned_team, sla_due_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10, $10)
RETURNING id`,
			p.CustomerID, orderID, p.Subject, p.Description, p.Category, p.Channel, out.Priority, teams[p.Category],
			now.Add(slaFor(out.Priority, tier)), now).Scan(&out.TicketID)
		if err != nil {
			return fmt.Errorf("creating a ticket: %w", err)
		}
		out.URL = fmt.Sprintf("%s%d", d.ticketURL, out.TicketID)
		return audit(ctx, tx, now, c, "ticket.created", "ticket", out.TicketID, map[string]any{
			"customer_id": p.CustomerID, "order_id": orderID, "category": p.Category, "priority": out.Priority, "channel": p.Channel,
		})
	})
	return out, err
}

func nonBlank(field, s string) error {
	if strings.TrimFunc(s, unicode.IsSpace) == "" {
		return invalid("%s is blank", field)
	}
	return nil
}

// UpdateTicketParams are update_ticket's arguments; at least one of
// Status, InternalNote and PublicReply.
type UpdateTicketParams struct {
	TicketID     int64  `json:"ticket_id"`
	Status       string `json:"status,omitempty"`
	InternalNote string `json:"internal_note,omitempty"`
	PublicReply  string `json:"public_reply,omitempty"`
	// IdempotencyKey, when set, makes the change once per caller and key:
	// a repeated key answers the first result (see Desk). The MCP server
	// takes it from the call's _meta, never from the arguments.
	IdempotencyKey string `json:"-"`
}

// TicketUpdated is update_ticket's result.
type TicketUpdated struct {
	TicketID  int64     `json:"ticket_id"`
	Status    string    `json:"status"`
	UpdatedAt time.Time `json:"updated_at"`
}

type ticketRow struct {
	customerID       int64
	status, priority string
	category, tier   string
}

func (d *Desk) lockTicket(ctx context.Context, tx pgx.Tx, c Caller, id int64) (ticketRow, error) {
	var t ticketRow
	err := tx.QueryRow(ctx, `
SELECT t.customer_id, t.status, t.priority, t.category, c.tier
FROM support.tickets t JOIN support.customers c ON c.id = t.customer_id
WHERE t.id = $1 FOR UPDATE OF t`, id).Scan(&t.customerID, &t.status, &t.priority, &t.category, &t.tier)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !c.mayActFor(t.customerID)) {
		return ticketRow{}, notFound("there is no ticket %d", id)
	}
	if err != nil {
		return ticketRow{}, fmt.Errorf("reading ticket %d: %w", id, err)
	}
	if t.status == "closed" {
		return ticketRow{}, refused("ticket %d is closed and cannot change; open a new ticket instead", id)
	}
	return t, nil
}

// UpdateTicket changes a ticket's status and adds an internal note or a
// public reply. A closed ticket cannot change.
func (d *Desk) UpdateTicket(ctx context.Context, c Caller, p UpdateTicketParams) (TicketUpdated, error) {
	if p.Status == "" && p.InternalNote == "" && p.PublicReply == "" {
		return TicketUpdated{}, invalid("give at least one of status, internal_note and public_reply")
	}
	if p.InternalNote != "" {
		if err := nonBlank("internal_note", p.InternalNote); err != nil {
			return TicketUpdated{}, err
		}
	}
	if p.PublicReply != "" {
		if err := nonBlank("public_reply", p.PublicReply); err != nil {
			return TicketUpdated{}, err
		}
	}
	var out TicketUpdated
	err := d.once(ctx, c, keyedChange{"update_ticket", p.IdempotencyKey, p}, &out, func(tx pgx.Tx) error {
		t, err := d.lockTicket(ctx, tx, c, p.TicketID)
		if err != nil {
			return err
		}
		now := d.clock()
		status := t.status
		if p.Status != "" {
			status = p.Status
		}
		if _, err := tx.Exec(ctx, `UPDATE support.tickets SET status = $2, updated_at = $3 WHERE id = $1`, p.TicketID, status, now); err != nil {
			return fmt.Errorf("updating ticket %d: %w", p.TicketID, err)
		}
		for _, cm := range [...]struct{ kind, body string }{{"internal_note", p.InternalNote}, {"public_reply", p.PublicReply}} {
			if cm.body == "" {
				continue
			}
			if err := comment(ctx, tx, p.TicketID, cm.kind, cm.body, c, now); err != nil {
				return err
			}
		}
		out = TicketUpdated{TicketID: p.TicketID, Status: status, UpdatedAt: now}
		return audit(ctx, tx, now, c, "ticket.updated", "ticket", p.TicketID, map[string]any{
			"from_status": t.status, "status": status, "internal_note": p.InternalNote != "", "public_reply": p.PublicReply != "",
		})
	})
	return out, err
}

func comment(ctx context.Context, tx pgx.Tx, ticketID int64, kind, body string, c Caller, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO support.ticket_comments (ticket_id, kind, body, author, created_at) VALUES ($1, $2, $3, $4, $5)`,
		ticketID, kind, body, c.Subject, now)
	if err != nil {
		return fmt.Errorf("adding a comment to ticket %d: %w", ticketID, err)
	}
	return nil
}

// EscalateTicketParams are escalate_ticket's arguments.
type EscalateTicketParams struct {
	TicketID int64  `json:"ticket_id"`
	Urgency  string `json:"urgency"`
	Reason   string `json:"reason"`
	// IdempotencyKey, when set, makes the change once per caller and key:
	// a repeated key answers the first result (see Desk). The MCP server
	// takes it from the call's _meta, never from the arguments.
	IdempotencyKey string `json:"-"`
}

// TicketEscalated is escalate_ticket's result.
type TicketEscalated struct {
	TicketID     int64     `json:"ticket_id"`
	Priority     string    `json:"priority"`
	AssignedTeam string    `json:"assigned_team"`
	SLAMinutes   int64     `json:"sla_minutes"`
	SLADueAt     time.Time `json:"sla_due_at"`
}

// urgencyPriority maps an escalation's urgency to a ticket priority.
var urgencyPriority = map[string]string{"low": "low", "normal": "normal", "high": "high", "critical": "urgent"}

// EscalateTicket raises a ticket to the priority its urgency calls for
// (never lowering it), restarts its SLA from now, and hands it to the
// escalation team of its category (critical ones to the on-call team).
func (d *Desk) EscalateTicket(ctx context.Context, c Caller, p EscalateTicketParams) (TicketEscalated, error) {
	prio, ok := urgencyPriority[p.Urgency]
	if !ok {
		return TicketEscalated{}, invalid("urgency %q is not one of low, normal, high, critical", p.Urgency)
	}
	if err := nonBlank("reason", p.Reason); err != nil {
		return TicketEscalated{}, err
	}
	var out TicketEscalated
	err := d.once(ctx, c, keyedChange{"escalate_ticket", p.IdempotencyKey, p}, &out, func(tx pgx.Tx) error {
		t, err := d.lockTicket(ctx, tx, c, p.TicketID)
		if err != nil {
			return err
		}
		if priorityLevel(t.priority) > priorityLevel(prio) {
			prio = t.priority
		}
		team := teams[t.category] + "-escalations"
		if p.Urgency == "critical" {
			team = "escalations-on-call"
		}
		now := d.clock()
		sla := slaFor(prio, t.tier)
		out = TicketEscalated{TicketID: p.TicketID, Priority: prio, AssignedTeam: team, SLAMinutes: int64(sla / time.Minute), SLADueAt: now.Add(sla)}
		status := t.status
		if status == "solved" {
			status = "open"
		}
		_, err = tx.Exec(ctx, `
UPDATE support.tickets SET priority = $2, assigned_team = $3, sla_due_at = $4, escalation_reason = $5, status = $6, updated_at = $7
WHERE id = $1`, p.TicketID, prio, team, out.SLADueAt, p.Reason, status, now)
		if err != nil {
			return fmt.Errorf("escalating ticket %d: %w", p.TicketID, err)
		}
		if err := comment(ctx, tx, p.TicketID, "internal_note", fmt.Sprintf("Escalated (%s urgency) to %s: %s", p.Urgency, team, p.Reason), c, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, c, "ticket.escalated", "ticket", p.TicketID, map[string]any{
			"urgency": p.Urgency, "from_priority": t.priority, "priority": prio, "team": team, "sla_minutes": out.SLAMinutes, "reason": p.Reason,
		})
	})
	return out, err
}

// IssueRefundParams are issue_refund's arguments.
type IssueRefundParams struct {
	OrderID           int64   `json:"order_id"`
	CustomerID        int64   `json:"customer_id,omitempty"`
	Amount            float64 `json:"amount"`
	Reason            string  `json:"reason"`
	RequestID         string  `json:"request_id,omitempty"`
	ApprovalReference string  `json:"approval_reference,omitempty"`
	// IdempotencyKey, when set, makes the change once per caller and key:
	// a repeated key answers the first result (see Desk). The MCP server
	// takes it from the call's _meta, never from the arguments.
	IdempotencyKey string `json:"-"`
}

// Refund is issue_refund's result.
type Refund struct {
	RefundID    string    `json:"refund_id"`
	OrderID     int64     `json:"order_id"`
	Amount      float64   `json:"amount"`
	Currency    string    `json:"currency"`
	Status      string    `json:"status"`
	ProcessedAt time.Time `json:"processed_at"`
}

func refundID(id int64) string { return fmt.Sprintf("RF-%06d", id) }

// IssueRefund refunds part or all of an order. It refuses (an *Error of
// KindRefused) a refund outside the order's refund window, above what was
// paid minus what was refunded, or above the approval threshold without an
// approval reference. A repeated p.RequestID returns the refund the first
// request made, whatever the other arguments, even when the requests race:
// the order's row is locked while a refund of it is decided.
func (d *Desk) IssueRefund(ctx context.Context, c Caller, p IssueRefundParams) (Refund, error) {
	amount, err := toCents(p.Amount)
	if err != nil {
		return Refund{}, err
	}
	if amount <= 0 {
		return Refund{}, invalid("amount must be more than zero")
	}
	if err := nonBlank("reason", p.Reason); err != nil {
		return Refund{}, err
	}
	var requestID *string
	if p.RequestID != "" {
		requestID = &p.RequestID
		if prev, ok, err := d.refundByRequest(ctx, d.db, c, p); ok || err != nil {
			return prev, err
		}
	}
	var out Refund
	err = d.once(ctx, c, keyedChange{"issue_refund", p.IdempotencyKey, p}, &out, func(tx pgx.Tx) error {
		o, err := d.loadOrder(ctx, tx, c, p.OrderID, p.CustomerID, true)
		if err != nil {
			return err
		}
		if requestID != nil { // a racing request with the same id may have committed while we waited for the lock
			prev, ok, err := d.refundByRequest(ctx, tx, c, p)
			if ok || err != nil {
				out = prev
				return err
			}
		}
		now := d.clock()
		switch {
		case o.paidCents == 0:
			return refused("order %d has no payment to refund", o.id)
		case !now.Before(o.windowEnds(d.rules.RefundWindow)):
			return refused("order %d is outside its refund window, which ended %s", o.id, o.windowEnds(d.rules.RefundWindow).Format(time.RFC3339))
		case amount > o.refundableCents():
			return refused("refund of %.2f %s is more than the %.2f %s left to refund on order %d (paid %.2f, refunded %.2f)",
				toUnits(amount), o.currency, toUnits(o.refundableCents()), o.currency, o.id, toUnits(o.paidCents), toUnits(o.refundCents))
		case amount > d.rules.ApprovalThresholdCents && strings.TrimSpace(p.ApprovalReference) == "":
			return refused("a refund above %.2f %s needs an approval_reference naming who approved it", toUnits(d.rules.ApprovalThresholdCents), o.currency)
		}
		status := "completed"
		if o.status == "shipped" {
			status = "pending" // paid back once the parcel, still in transit, is returned
		}
		var approval *string
		if p.ApprovalReference != "" {
			approval = &p.ApprovalReference
		}
		var id int64
		err = tx.QueryRow(ctx, `
INSERT INTO support.refunds (order_id, request_id, amount_cents, reason, approval_reference, status, actor, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
RETURNING id`, o.id, requestID, amount, p.Reason, approval, status, c.Subject, now).Scan(&id)
		if err != nil {
			return fmt.Errorf("recording a refund of order %d: %w", o.id, err)
		}
		out = Refund{RefundID: refundID(id), OrderID: o.id, Amount: toUnits(amount), Currency: o.currency, Status: status, ProcessedAt: now}
		return audit(ctx, tx, now, c, "refund.issued", "order", o.id, map[string]any{
			"refund_id": out.RefundID, "request_id": requestID, "amount_cents": amount, "currency": o.currency,
			"reason": p.Reason, "approval_reference": approval, "status": status,
		})
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && requestID != nil {
		// The same request id, for another order, committed first.
		prev, ok, err := d.refundByRequest(ctx, d.db, c, p)
		if !ok && err == nil {
			err = fmt.Errorf("reading refund request %q after a conflict: it vanished", p.RequestID)
		}
		return prev, err
	}
	return out, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// refundByRequest returns the refund an earlier request with p.RequestID
// made. A request id used for another order is refused, and one of another
// customer is not found.
func (d *Desk) refundByRequest(ctx context.Context, q querier, c Caller, p IssueRefundParams) (Refund, bool, error) {
	var r Refund
	var id, amount, customerID int64
	err := q.QueryRow(ctx, `
SELECT r.id, r.order_id, r.amount_cents, o.currency, r.status, r.created_at, o.customer_id
FROM support.refunds r JOIN support.orders o ON o.id = r.order_id
WHERE r.request_id = $1`, p.RequestID).Scan(&id, &r.OrderID, &amount, &r.Currency, &r.Status, &r.ProcessedAt, &customerID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Refund{}, false, nil
	}
	if err != nil {
		return Refund{}, false, fmt.Errorf("reading refund request %q: %w", p.RequestID, err)
	}
	if r.OrderID != p.OrderID || !c.mayActFor(customerID) || (p.CustomerID != 0 && p.CustomerID != customerID) {
		return Refund{}, false, refused("request_id %q was already used for another refund; use a new request_id", p.RequestID)
	}
	r.RefundID, r.Amount, r.ProcessedAt = refundID(id), toUnits(amount), r.ProcessedAt.UTC()
	return r, true, nil
}

// inTx runs f in a transaction, committed when f returns nil.
func (d *Desk) inTx(ctx context.Context, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, d.db, f)
}

// audit records a change in the transaction that makes it.
func audit(ctx context.Context, tx pgx.Tx, at time.Time, c Caller, action, entity string, id int64, detail map[string]any) error {
	if c.CustomerID != 0 {
		detail["caller_customer_id"] = c.CustomerID
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return fmt.Errorf("encoding the audit detail of %s: %w", action, err)
	}
	_, err = tx.Exec(ctx, `INSERT INTO support.audit (at, actor, action, entity, entity_id, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		at, c.Subject, action, entity, fmt.Sprint(id), b)
	if err != nil {
		return fmt.Errorf("writing the audit row of %s: %w", action, err)
	}
	return nil
}
