// Package mcpclient owns the MCP client pool: the sessions aiflow keeps
// open to the MCP servers a deployment names, and the rules that make a
// tool call on them safe to depend on. Servers are configured by name
// (Config): a stdio command, or one or more Streamable HTTP replicas.
//
// A Pool opens each endpoint's session once and reuses it; a session that
// drops reconnects by itself with exponential backoff and jitter, and a
// call that was in flight when it dropped is sent again only when that
// cannot do a thing twice: the tool is read-only or idempotent by its
// annotations, or it honours an idempotency key (IdempotencyMetaKey). Each
// endpoint has a circuit breaker and a health check by ping; a call goes
// to the first healthy replica whose breaker is closed.
//
// Tools are discovered with tools/list, cached, and listed again when the
// server sends notifications/tools/list_changed. Each tool's definition
// is pinned by its hash (DefinitionHash) when it is approved; a server
// that changes a pinned definition has that tool disabled (MCP.ToolChanged)
// until Approve pins the new one. Arguments are checked by the text gate
// (internal/textgate: no NUL, invalid UTF-8 or lone surrogate) and
// validated against the tool's input schema before any call.
//
// Every failure is an *Error whose Code is one of Codes, the names a
// workflow's retry and catch match.
package mcpclient
