// Package asl owns the Amazon States Language (ASL): the state machine
// model that aiflow's workflow compiler emits, Step Functions runs on AWS
// and the local engine interprets, together with its JSON form, its
// validator, and the two small languages inside it, paths and intrinsic
// functions. It does no I/O.
//
// # Model
//
// A StateMachine holds States, each a State of one Type (Pass, Task,
// Choice, Wait, Succeed, Fail, Parallel or Map). One State struct carries
// the fields of every type; Validate reports the fields a type does not
// allow. Pointer fields tell an absent value from a zero one. Payload
// templates (Parameters, ResultSelector, ItemSelector, Credentials,
// ItemReader, ItemBatcher, ResultWriter), Result and the values of Assign
// are json.RawMessage, so they carry any JSON exactly.
//
// Both query languages are supported: JSONPath, the default, and
// JSONata, for the whole state machine or state by state (QueryLanguage).
// A JSONata state uses Arguments, Output, Items and a Choice Rule's
// Condition, and "{% ... %}" expression strings, in place of the
// JSONPath fields; a number field (TimeoutSeconds, Seconds,
// MaxConcurrency, ...) may hold an expression string, kept in the
// field's *Expr twin. EvalJSONata and its siblings evaluate expressions
// with the reserved variable $states and the functions Step Functions
// adds; jsonata_lib.go is the one file that knows the JSONata library.
//
// # JSON
//
// Parse is strict: invalid JSON, duplicate keys, unknown fields and values
// of the wrong JSON type are errors that name the state and field.
// MarshalIndent is deterministic, so that compiled definitions can be
// checked in and compared byte for byte: fields in a fixed order (Type
// first, then what the state does, its input and output processing, its
// timeouts, its error handling and finally Next or End), state names and
// every object key inside payload templates sorted, numbers inside
// templates kept as written, two-space indentation and a trailing newline.
// Parse followed by MarshalIndent reproduces MarshalIndent's own output
// byte for byte. Parse itself keeps the members of a template or a Result
// in the order of the document, which is the order Step Functions writes
// their output in.
//
// The values a state machine works on at run time are those DecodeJSON
// returns: objects as *Object, which keeps its members in order as Step
// Functions does, numbers as json.Number with their text as written.
// EncodeJSON writes them back the way Step Functions writes JSON.
//
// # Validation
//
// Validate applies the rules Step Functions applies when a state machine is
// created and reports every problem, each with the path of the offending
// field, such as "States.Classify.Retry[0].ErrorEquals". Choices this
// package makes where the sources are silent or differ:
//
//   - State names follow the character rules the Step Functions API
//     reference gives for names (no white space, brackets, wildcards,
//     punctuation from " # % \ ^ | ~ ` $ & , ; : / or control characters).
//     The service may accept more in state names; our compiler never needs
//     to.
//   - Every scope must contain a terminal state (Succeed, Fail or
//     "End": true).
//   - Error names starting with "States." must be predefined ones, which
//     catches typos such as "States.Timout".
//   - The Context Object ($$) and variables ($name) may be read by every
//     path field except ResultPath, which must be a Reference Path into
//     the state's input.
//   - Literal arguments of intrinsic functions are checked where their
//     type is fixed (the algorithm of States.Hash, the chunk size of
//     States.ArrayPartition, ...); paths, and the number of {} placeholders
//     of States.Format, are left to run time, as Step Functions does.
//
// # Paths and intrinsic functions
//
// ParsePath and ParseIntrinsic return syntax trees (Path, Call) that the
// engine evaluates; their String methods give back a canonical spelling
// that parses to the same tree.
package asl
