package control

// Code names an error a caller of a use case can cause; a transport maps
// each to its answer (the HTTP API to a status, in one table).
type Code string

// The codes of *Error.
const (
	// CodeInvalidDefinition: the definition does not check or compile, or
	// sends to a queue the deployment has none of.
	CodeInvalidDefinition Code = "InvalidDefinition"
	// CodeInvalidInput: the input does not match the workflow's input
	// schema.
	CodeInvalidInput Code = "InvalidInput"
	// CodeInputNotJSON: the input is not JSON.
	CodeInputNotJSON Code = "InputNotJSON"
	// CodeInputTooLarge: the input has more than MaxInputBytes.
	CodeInputTooLarge Code = "InputTooLarge"
	// CodeInvalidIdempotencyKey: the key is not 1 to MaxIdempotencyKey
	// printable characters.
	CodeInvalidIdempotencyKey Code = "InvalidIdempotencyKey"
	// CodeIdempotencyKeyReused: the key started another request before.
	CodeIdempotencyKeyReused Code = "IdempotencyKeyReused"
	// CodeNameTaken: a state machine of the workflow's name exists that
	// was not published here.
	CodeNameTaken Code = "NameTaken"
	// CodeApprovalDecided: the approval was decided already, or its step
	// stopped waiting.
	CodeApprovalDecided Code = "ApprovalDecided"
	// CodeNotFound: the approval, or the workflow to start, does not
	// exist.
	CodeNotFound Code = "NotFound"
)

// What a Field is about.
const (
	// ParamDefinition: Field.Location is a file:line:col of the
	// definition.
	ParamDefinition = "definition"
	// ParamInput: Field.Pointer is a JSON pointer into the input, "" for
	// the whole input.
	ParamInput = "input"
	// ParamIdempotencyKey: the idempotency key.
	ParamIdempotencyKey = "idempotency_key"
)

// Field names one thing wrong.
type Field struct {
	// Param is what the field is about: ParamDefinition, ParamInput or
	// ParamIdempotencyKey.
	Param    string
	Pointer  string
	Location string
	Detail   string
}

// Error is an error the caller of a use case caused; Detail is written
// for that caller.
type Error struct {
	Code   Code
	Detail string
	Fields []Field
}

func (e *Error) Error() string { return e.Detail }
