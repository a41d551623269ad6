// Package telemetry owns how aiflow processes log: a log/slog logger that
// writes JSON in Lambda and for machines and text on a terminal, carries
// request, correlation, execution and step identifiers from a
// context.Context into every record, with the trace and span IDs of the
// context's OpenTelemetry span (trace_id, span_id), so that logs, traces
// and an execution's history join on one ID; and never prints a secret.
//
// XRayHeader and ContextWithXRayHeader carry a trace context in X-Ray's
// header format, the one Step Functions and SQS carry between services.
//
// Secrets are kept out of logs three ways: values of type Secret always
// render as [REDACTED]; attributes whose key names a secret (password,
// token, api_key, ...) are redacted by the handler; and passwords inside
// URLs and PostgreSQL connection strings are masked by RedactURL, which the
// handler applies to every string value it writes.
package telemetry
