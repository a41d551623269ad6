// Package eventbridge is the EventBridge part of `aiflow stack`: the
// template's rules (stackmodel.Rule) on the stack's default event bus,
// matching events with EventBridge's event patterns and delivering them to
// their function targets with the targets' retry policies and dead-letter
// queues; and StatusChanges, the source that turns the local engine's
// durable history into "Step Functions Execution Status Change" events.
//
// # Patterns
//
// CompilePattern implements EventBridge's content filtering: exact values
// (strings, numbers, null, booleans), arrays as OR, nested fields, prefix
// and suffix (also with equals-ignore-case), anything-but (a value, a list
// of strings or of numbers, or prefix, suffix, equals-ignore-case or
// wildcard), exists, numeric comparisons and ranges, equals-ignore-case,
// wildcard (* and the escapes \* and \\), cidr (IPv4 and IPv6), and $or.
// A field of the event that holds an array matches when one of its
// elements does. Anything else is refused when the pattern is compiled,
// with a *PatternError naming the JSON path and the operator: a pattern
// never silently matches what EventBridge would not.
//
// # Delivery
//
// Bus.Put matches an event against the enabled rules and delivers it to
// each target of each matching rule, in goroutines the Bus owns: the
// event as EventBridge delivers it to a Lambda target (Event's JSON, which
// aws-lambda-go's events.EventBridgeEvent decodes), or the target's Input,
// or the part of the event its InputPath selects (simple paths only:
// $.a.b, $.a[0], $['a']). An invocation that returns an error, or whose
// function returns one, is a failed attempt, retried with exponential
// backoff and jitter: the n-th retry waits a random time between half and
// all of min(1 s·2^(n-1), 5 min), until the target's MaximumRetryAttempts
// retries are spent or the next retry would come after its
// MaximumEventAge (counted from when the bus took the event). EventBridge
// does not publish its own schedule; this one is ours. Then the event goes
// to the target's dead-letter queue with the message attributes
// EventBridge adds (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
// EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS), or, without one, is logged
// and dropped, as EventBridge drops it.
//
// On AWS, EventBridge invokes a Lambda function asynchronously: a function
// error is retried by Lambda's asynchronous invocation (twice by default),
// not by the rule's retry policy, which covers the invocation itself. Here
// the invocation is synchronous and a function error counts as a failed
// attempt of the rule's target, so a failing recorder is retried by the
// rule's policy and ends in the rule's dead-letter queue.
//
// NewBus refuses what it does not run, naming the rule and target:
// scheduled rules, rules of another bus than the default one, targets
// that are not functions of the stack (queues, state machines, API
// destinations, ...), InputTransformer-like paths beyond simple steps.
//
// Bus.Deliver is Put that waits until each delivery ended (delivered,
// dead-lettered, or dropped without a dead-letter queue) and reports an
// interrupted one or a dead-letter queue that refused the event, so that
// a durable caller can deliver the event again.
//
// # Status changes
//
// StatusChanges reads the local engine's history from the event store
// with a durable subscription and delivers a "Step Functions Execution
// Status Change" event for each ExecutionStarted, ExecutionSucceeded,
// ExecutionFailed, ExecutionTimedOut and ExecutionAborted history event,
// with Bus.Deliver: the subscription's checkpoint moves only past status
// changes delivered or dead-lettered, so delivery is at least once across
// restarts, in the order of the history (see StatusChanges).
package eventbridge
