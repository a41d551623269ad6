// Package expr owns the expression and template language of aiflow
// workflows: choice conditions such as
//
//	steps.classify.output.category == "refund" && input.amount > 100
//
// and templates such as
//
//	Classify this message: {{ input.message }} (customer {{ steps.lookup.output.name }})
//
// It parses them into trees with byte offsets, type-checks them against an
// Env the caller supplies, and renders paths as Step Functions JSONPath. It
// does no I/O and evaluates nothing: the compiler turns conditions into
// choice rules and templates into States.Format calls.
//
// # Conditions
//
// From the loosest to the tightest binding:
//
//	a || b                  either; left-associative
//	a && b                  both; left-associative
//	!a                      not; !a == b means !(a == b)
//	a == b, a != b,         comparisons; they do not chain, so a < b < c
//	a < b, a <= b,          is an error
//	a > b, a >= b
//	(a), literals, paths, function calls
//
// Whitespace between tokens is free; a path itself holds none.
//
// Literals are strings in double quotes with JSON escapes, or in single
// quotes with the same escapes (\' works in both); numbers in JSON syntax
// with an optional leading minus; true, false and null.
//
// # Paths
//
// A path starts with a root, input, steps or context, and continues with
// .name segments, [N] indexes and ["quoted key"] segments:
//
//	input.customer.email
//	steps.lookup.output.orders[0]["order id"]
//	context.execution.start_time
//
// A name is [A-Za-z_][A-Za-z0-9_-]*. The minus is allowed because step
// ids often have one (steps.lookup-customer.output); the language has no
// arithmetic, so a-b is always a name. A path under steps starts with a
// step name. Context paths are fixed by the parser, so that Path.JSONPath
// never fails: context.execution.{id,name,start_time,role_arn,redrive_count},
// context.state.{name,entered_time,retry_count},
// context.state_machine.{id,name}, context.task.token,
// context.map.item.index and context.map.item.value with any path below
// it. Which context paths are available where (context.map only inside a
// map step) is for the Env to decide; ContextType gives their types.
//
// # Functions
//
//	exists(p)          p is present (IsPresent)
//	is_null(p)         p is null (IsNull)
//	is_string(p)       p is a string (IsString)
//	is_number(p)       p is a number (IsNumeric)
//	is_boolean(p)      p is a boolean (IsBoolean)
//	is_timestamp(p)    p is an ISO 8601 timestamp string (IsTimestamp)
//	matches(p, "a*")   p is a string matching a glob (StringMatches): *
//	                   matches any run of characters, \* a star and \\ a
//	                   backslash, written "\\*" and "\\\\" in a quoted
//	                   string
//
// # Templates
//
// A template is literal text with paths in {{ }}; each holds exactly one
// path, with optional spaces around it. \{{ writes a literal {{. A
// template that is exactly one {{ path }}, with no text around it, passes
// the value through with its own type (Template.Single); any other
// template renders to a string, so the paths in it must be scalars.
//
// # Types
//
// Check and CheckTemplate ask an Env for the Type of every path: a set of
// kinds (string, number, integer, boolean, object, array, null, or any
// when unknown) and whether the value may be absent. They report every
// problem at once, each with offsets; see Check for the rules. Comparing
// two literals is legal but reported as a warning (TypeError.Warning),
// since it is almost certainly a mistake and a Step Functions choice rule
// cannot express it directly.
//
// Reading an absent value fails a Step Functions execution, so an
// Optional value needs a guard: exists(p) && p == "x". Guards assume that
// choice rules evaluate && and || from left to right and stop early, as
// And and Or do. An Env that knows a step may not have run reports its
// outputs as Optional.
package expr
