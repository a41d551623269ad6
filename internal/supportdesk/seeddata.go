package supportdesk

import (
	"fmt"
	"time"
)

type seedCustomer struct {
	name, email, phone, tier string
}

// seedCustomers get ids 1, 2, ... in this order. Customer 7 and order 1042
// are those of the support-triage example's input.
var seedCustomers = []seedCustomer{
	{"Grace Hopper", "grace.hopper@example.com", "+1 202 555 0101", "enterprise"},
	{"Alan Turing", "alan.turing@example.co.uk", "+44 20 7946 0102", "plus"},
	{"Katherine Johnson", "kjohnson@example.com", "+1 757 555 0103", "enterprise"},
	{"Linus Pauling", "linus.p@example.org", "", "standard"},
	{"Hedy Lamarr", "hedy@example.at", "+43 1 555 0105", "plus"},
	{"Claude Shannon", "cshannon@example.com", "", "standard"},
	{"Ada Lovelace", "ada@example.com", "+44 20 7946 0107", "plus"},
	{"Margaret Hamilton", "m.hamilton@example.com", "+1 617 555 0108", "enterprise"},
	{"Edsger Dijkstra", "ewd@example.nl", "", "standard"},
	{"Barbara Liskov", "liskov@example.edu", "+1 617 555 0110", "plus"},
	{"Dennis Ritchie", "dmr@example.com", "", "standard"},
	{"Frances Allen", "fran.allen@example.com", "+1 914 555 0112", "standard"},
	{"Donald Knuth", "knuth@example.edu", "", "plus"},
	{"Radia Perlman", "radia@example.net", "+1 425 555 0114", "standard"},
	{"Ken Thompson", "ken@example.com", "", "standard"},
	{"Sophie Wilson", "sophie.wilson@example.co.uk", "+44 1223 555 016", "plus"},
	{"John McCarthy", "jmc@example.edu", "", "standard"},
	{"Mary Kenneth Keller", "mk.keller@example.org", "", "standard"},
	{"Tim Berners-Lee", "timbl@example.org", "+44 20 7946 0119", "enterprise"},
	{"Annie Easley", "annie.easley@example.com", "+1 216 555 0120", "standard"},
	{"Niklaus Wirth", "wirth@example.ch", "", "standard"},
	{"Evelyn Boyd Granville", "evelyn.granville@example.com", "", "plus"},
	{"Leslie Lamport", "lamport@example.com", "", "standard"},
	{"Jean Bartik", "jean.bartik@example.com", "+1 816 555 0124", "standard"},
	{"Bjarne Stroustrup", "bs@example.dk", "", "plus"},
	{"Shafi Goldwasser", "shafi@example.edu", "", "standard"},
	{"Guido van Rossum", "guido@example.nl", "", "standard"},
	{"Adele Goldberg", "adele@example.com", "+1 650 555 0128", "plus"},
	{"Vint Cerf", "vint@example.net", "", "enterprise"},
	{"Joan Clarke", "joan.clarke@example.co.uk", "", "standard"},
	{"Whitfield Diffie", "diffie@example.com", "", "standard"},
	{"Lynn Conway", "lynn.conway@example.com", "+1 734 555 0132", "plus"},
	{"Robert Noyce", "noyce@example.com", "", "standard"},
	{"Karen Spärck Jones", "ksj@example.ac.uk", "", "standard"},
	{"Yukihiro Matsumoto", "matz@example.jp", "", "standard"},
	{"Ida Rhodes", "ida.rhodes@example.com", "", "plus"},
}

type seedProduct struct {
	sku, name  string
	priceCents int64
}

var seedProducts = []seedProduct{
	{"HAT-MER-01", "Merino wool beanie", 24_90},
	{"MUG-TRV-12", "Insulated travel mug, 12 oz", 35_00},
	{"BAG-DAY-20", "Waxed canvas daypack, 20 L", 129_00},
	{"KB-MECH-TKL", "Mechanical keyboard, tenkeyless", 149_00},
	{"DSK-STD-160", "Electric standing desk, 160 cm", 1_249_00},
	{"LMP-DSK-LED", "LED desk lamp with dimmer", 59_99},
	{"CHR-ERG-02", "Ergonomic office chair", 489_00},
	{"HP-ANC-700", "Noise-cancelling headphones", 299_00},
	{"BTL-STL-750", "Stainless steel bottle, 750 ml", 29_99},
	{"NB-DOT-A5", "Dotted notebook, A5, 3-pack", 18_50},
	{"PEN-FTN-M", "Fountain pen, medium nib", 64_00},
	{"CBL-USBC-2M", "USB-C cable, 2 m", 14_99},
	{"CHG-GAN-65", "65 W GaN charger", 49_00},
	{"MAT-DSK-XL", "Felt desk mat, XL", 39_00},
	{"TEE-ORG-M", "Organic cotton t-shirt", 29_99},
	{"JKT-RAIN-L", "Packable rain jacket", 119_00},
}

type seedItem struct {
	product  int // index in seedProducts
	quantity int64
}

type seedOrder struct {
	id, customerID int64
	status         string // orders.status
	shipStatus     string // shipments.status
	currency       string
	placedAt       time.Time
	deliveredAt    *time.Time
	items          []seedItem
	refundCents    int64
	refundReason   string
}

func (o seedOrder) total() int64 {
	var t int64
	for _, it := range o.items {
		t += seedProducts[it.product].priceCents * it.quantity
	}
	return t
}

func (o seedOrder) paid() bool { return o.status != "pending" }

var carriers = []string{"UPS", "DHL", "FedEx", "USPS"}

func (o seedOrder) carrier() *string {
	if o.shipStatus == "not_shipped" {
		return nil
	}
	c := carriers[o.id%4]
	if o.id == 1042 {
		c = "DHL"
	}
	return &c
}

func (o seedOrder) tracking() *string {
	c := o.carrier()
	if c == nil {
		return nil
	}
	var t string
	switch *c {
	case "UPS":
		t = fmt.Sprintf("1Z999AA1%010d", o.id*7919)
	case "DHL":
		t = fmt.Sprintf("JD01460000%08d", o.id*104729)
	case "FedEx":
		t = fmt.Sprintf("7%011d", o.id*15485863)
	default:
		t = fmt.Sprintf("9400 1000 0000 %04d %04d", o.id, o.id*37%10000)
	}
	return &t
}

func (o seedOrder) eta() *time.Time {
	switch o.shipStatus {
	case "not_shipped":
		return nil
	case "delivered":
		return o.deliveredAt
	}
	d := o.placedAt.AddDate(0, 0, 8)
	return &d
}

func daysAgo(now time.Time, d int) *time.Time {
	t := now.AddDate(0, 0, -d)
	return &t
}

// seedOrders are the showcase orders 1042 to 1054, which docs/support-desk.md
// names, and then a few orders for every customer from 1100 on.
func seedOrders(now time.Time) []seedOrder {
	at := func(d int) time.Time { return now.AddDate(0, 0, -d).Add(-3 * time.Hour) }
	orders := []seedOrder{
		// Ada's parcel, a week on its way.
		{id: 1042, customerID: 7, status: "shipped", shipStatus: "in_transit", currency: "EUR", placedAt: at(7), items: []seedItem{{0, 1}, {1, 1}}},
		// Delivered ten days ago: refundable.
		{id: 1043, customerID: 7, status: "delivered", shipStatus: "delivered", currency: "USD", placedAt: at(14), deliveredAt: daysAgo(now, 10), items: []seedItem{{2, 1}}},
		// Delivered 75 days ago: outside the 30-day window.
		{id: 1044, customerID: 7, status: "delivered", shipStatus: "delivered", currency: "USD", placedAt: at(80), deliveredAt: daysAgo(now, 75), items: []seedItem{{5, 1}, {11, 2}}},
		// Above the approval threshold.
		{id: 1050, customerID: 3, status: "delivered", shipStatus: "delivered", currency: "USD", placedAt: at(9), deliveredAt: daysAgo(now, 5), items: []seedItem{{4, 1}}},
		// Partly refunded already: one of three shirts.
		{id: 1051, customerID: 4, status: "delivered", shipStatus: "delivered", currency: "USD", placedAt: at(16), deliveredAt: daysAgo(now, 12), items: []seedItem{{14, 3}},
			refundCents: 29_99, refundReason: "One shirt arrived with a torn seam."},
		// Cancelled before shipping and refunded in full.
		{id: 1052, customerID: 5, status: "cancelled", shipStatus: "not_shipped", currency: "USD", placedAt: at(4), items: []seedItem{{7, 1}},
			refundCents: 299_00, refundReason: "Cancelled by the customer before shipping."},
		// Not paid yet.
		{id: 1053, customerID: 6, status: "pending", shipStatus: "not_shipped", currency: "USD", placedAt: at(0), items: []seedItem{{9, 2}, {10, 1}}},
		// Returned and refunded in full.
		{id: 1054, customerID: 8, status: "returned", shipStatus: "delivered", currency: "USD", placedAt: at(25), deliveredAt: daysAgo(now, 20), items: []seedItem{{6, 1}},
			refundCents: 489_00, refundReason: "Returned within 30 days: the chair did not fit the desk."},
		// A parcel the carrier lost track of.
		{id: 1055, customerID: 2, status: "shipped", shipStatus: "exception", currency: "GBP", placedAt: at(12), items: []seedItem{{3, 1}, {13, 1}}},
	}
	type pattern struct {
		status, ship string
		age          int // days since the order was placed
		delivered    int // days since delivery, -1 when not delivered
	}
	patterns := []pattern{
		{"delivered", "delivered", 120, 115},
		{"delivered", "delivered", 18, 13},
		{"shipped", "in_transit", 3, -1},
		{"paid", "label_created", 1, -1},
		{"delivered", "delivered", 45, 40},
		{"shipped", "out_for_delivery", 4, -1},
		{"delivered", "delivered", 9, 2},
		{"delivered", "delivered", 230, 224},
	}
	id := int64(1100)
	k := 0
	for ci := range seedCustomers {
		for n := 0; n < 1+ci%3; n++ {
			p := patterns[k%len(patterns)]
			o := seedOrder{id: id, customerID: int64(ci + 1), status: p.status, shipStatus: p.ship, currency: "USD", placedAt: at(p.age + ci%5)}
			if ci%9 == 4 {
				o.currency = "EUR"
			}
			if p.delivered >= 0 {
				o.deliveredAt = daysAgo(now, p.delivered+ci%5)
			}
			for j := 0; j < 1+k%3; j++ {
				o.items = append(o.items, seedItem{product: (k*7 + j*3) % len(seedProducts), quantity: int64(1 + (k+j)%2)})
			}
			if o.items[0].product == 4 { // keep the standing desk for the showcase order
				o.items[0].product = 5
			}
			orders = append(orders, o)
			id++
			k++
		}
	}
	return orders
}

type seedTicket struct {
	customerID, orderID                             int64
	subject, description, category, channel, status string
	priority                                        string
	age                                             time.Duration
}

var seedTickets = []seedTicket{
	{customerID: 2, orderID: 1055, subject: "Parcel stuck with the carrier", description: "Tracking has said 'exception' for five days. Can you find out what happened to my keyboard?", category: "order_status", channel: "email", status: "open", priority: "high", age: 30 * time.Hour},
	{customerID: 4, orderID: 1051, subject: "Torn seam on a shirt", description: "One of the three shirts I ordered has a torn seam along the left side.", category: "refund", channel: "web", status: "solved", priority: "normal", age: 11 * 24 * time.Hour},
	{customerID: 1, subject: "Invoice with our VAT number", description: "Our accounts team needs the invoices for last quarter to show our VAT number. Can you reissue them?", category: "other", channel: "email", status: "pending", priority: "high", age: 50 * time.Hour},
	{customerID: 10, subject: "Is the daypack waterproof?", description: "I cycle to work in the rain. Will the waxed canvas daypack keep a laptop dry?", category: "product_question", channel: "chat", status: "open", priority: "low", age: 5 * time.Hour},
	{customerID: 19, subject: "Standing desk motor makes a grinding noise", description: "Since yesterday the desk grinds when it goes up and stops halfway. It is three weeks old.", category: "complaint", channel: "phone", status: "open", priority: "urgent", age: 2 * time.Hour},
	{customerID: 6, orderID: 1053, subject: "Payment failed twice", description: "My card was declined twice at checkout but my bank says there was no attempt.", category: "other", channel: "web", status: "open", priority: "normal", age: 20 * time.Minute},
	{customerID: 13, subject: "Fountain pen leaks", description: "The pen leaks ink into the cap when I carry it in my bag.", category: "product_question", channel: "email", status: "closed", priority: "low", age: 40 * 24 * time.Hour},
	{customerID: 8, orderID: 1054, subject: "Return label for the chair", description: "The chair does not fit under my desk. How do I send it back?", category: "refund", channel: "web", status: "closed", priority: "normal", age: 19 * 24 * time.Hour},
}

type seedArticle struct {
	slug, title, body string
}

var seedArticles = []seedArticle{
	{"where-is-my-order", "Where is my order? Tracking a shipment and shipping delays",
		"Every order gets a tracking number when the carrier collects it; you will find it in the shipping confirmation email and on your order page. " +
			"Standard shipping takes 3 to 5 business days within the country and 6 to 10 internationally. Tracking can take up to 24 hours to show the first scan. " +
			"If your tracking has not changed for more than 3 business days, the parcel is usually waiting at a sorting centre; shipping delays of this kind clear by themselves in most cases. " +
			"If the status shows an exception, the carrier could not deliver: check the address on the order and contact us so we can open an investigation with the carrier. " +
			"Orders not delivered 10 business days after shipping are treated as lost, and we send a replacement or a full refund."},
	{"refund-policy", "Refund policy: how refunds work and how long they take",
		"You can ask for a refund within 30 days of delivery, or within 30 days of placing the order if it never arrived. " +
			"Refunds go back to the original payment method: cards in 5 to 10 business days, PayPal within 48 hours, gift cards at once. " +
			"We refund the price of the items and the original shipping cost when the item was faulty or not as described; for a change of mind, return shipping is paid by the customer. " +
			"An order can be refunded in several parts, but never more than was paid. Large refunds are reviewed by a team lead before they are issued."},
	{"returns", "How to return an item",
		"Start a return from your order page: choose the items, the reason, and whether you want a refund or an exchange. " +
			"We email a prepaid return label for faulty items; for other returns the label costs a flat fee deducted from the refund. " +
			"Pack the item in its original packaging if you still have it, attach the label and drop the parcel at any carrier location within 14 days. " +
			"Once the return is scanned at our warehouse, the refund is issued within 2 business days. Furniture such as chairs and standing desks is collected from your door: we arrange a pickup slot by email."},
	{"damaged-or-faulty", "My item arrived damaged or faulty",
		"We are sorry! Take a photo of the damage and of the box, and send it to us from your order page within 14 days of delivery. " +
			"For damaged parcels we send a replacement at once, without waiting for the return. Faulty electronics (keyboards, headphones, chargers, lamps) are covered by a two-year warranty: " +
			"we replace or refund them, and you do not need to send back items under 30 dollars."},
	{"cancel-order", "Cancelling or changing an order",
		"You can cancel an order, or change its address, until it is packed, usually within an hour of ordering. Use the Cancel button on the order page. " +
			"Once the order has a shipping label it can no longer be cancelled; refuse the delivery or return it instead. Cancelled orders are refunded in full within 5 business days."},
	{"payment-declined", "Why was my payment declined?",
		"Payments are declined most often because of a billing address that does not match the card, 3-D Secure verification that timed out, or a bank's fraud check. " +
			"Try again and complete the verification in your bank app. If your bank shows no attempt at all, clear your browser's cache or try another browser. " +
			"We never charge an order that was declined; a pending authorisation disappears within a few days."},
	{"standing-desk-troubleshooting", "Standing desk troubleshooting: noise, stopping halfway, error codes",
		"If your electric standing desk stops halfway or shows an error code such as E01 or E02, reset it: unplug it for 30 seconds, then hold the down button until the desk reaches its lowest position and beeps. " +
			"A grinding noise usually means the desk is overloaded or the legs are out of sync; remove heavy items and run the reset. " +
			"If the motor still grinds after a reset, stop using the desk and contact us: the frame has a five-year warranty and the motor two years, and we send a technician or a replacement leg."},
	{"warranty", "Warranty: what is covered and for how long",
		"All products have a two-year warranty against manufacturing defects. Furniture frames are covered for five years. " +
			"The warranty does not cover wear and tear, accidental damage, or damage from use against the care instructions. To claim, open a ticket with your order number and a photo or short video of the problem."},
	{"shipping-costs", "Shipping options and costs",
		"Standard shipping is free on orders over 50 dollars; below that it costs 4.95. Express shipping (1 to 2 business days) costs 14.95. " +
			"We ship to the EU, the UK, the US and Canada; international orders may be charged import duties by the customs of the destination country, which the carrier collects on delivery."},
	{"account-and-email", "Changing your email address or password",
		"You can change your email address and password on the Account page. We send a confirmation link to the new address; the change takes effect once you click it. " +
			"If you no longer have access to the old address, contact us from the new one with an order number so we can verify that the account is yours."},
	{"business-accounts", "Business accounts, invoices and VAT",
		"Business customers can add a company name and VAT number on the Account page; invoices issued after that show them. " +
			"We can reissue invoices of the last 12 months with a VAT number on request. Enterprise accounts have a dedicated account manager, consolidated monthly invoicing and support answered within half the usual time."},
	{"product-care", "Caring for waxed canvas, merino wool and fountain pens",
		"Waxed canvas is water-resistant, not waterproof: re-wax it once a year and keep electronics in a sleeve in heavy rain. Wash merino wool cold on a wool cycle and dry it flat. " +
			"Fountain pens can leak when carried nib-down or when the air in the converter warms up; carry the pen nib-up and keep the converter full or nearly empty."},
}
