// Package supportdesk owns the customer-support domain and the MCP server
// that exposes it as tools: customers, orders with their items, shipments,
// payments and refunds, support tickets and a knowledge base, all in the
// `support` schema of PostgreSQL (infra/migrations/00005_supportdesk.sql).
//
// The business rules live in Desk, below the MCP layer, so they hold
// whatever a model asks: a refund only within its window, never above what
// was paid minus what was refunded, once per request id, above a threshold
// only with an approval reference; a caller scoped to one customer sees and
// changes only that customer's data; every change is one transaction with
// an audit row; every change honours an idempotency key (the call's _meta,
// and a refund's request_id), so a repeated call changes nothing twice.
//
// NewServer puts the tools on an MCP server; NewHTTPHandler serves it over
// Streamable HTTP behind Origin and bearer-token checks, and
// NewFunctionURLHandler does the same for a Lambda Function URL. Every
// tools/call passes the text gate (internal/textgate) before the SDK reads
// its arguments: a NUL, invalid UTF-8 or a lone surrogate is a JSON-RPC
// invalid-params error naming the JSON pointer, on every transport. See
// docs/support-desk.md.
package supportdesk
