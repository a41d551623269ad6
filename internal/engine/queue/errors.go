package queue

import "errors"

// SQS error codes the broker returns in Error.Code, as Amazon SQS names
// them.
const (
	CodeQueueDoesNotExist      = "QueueDoesNotExist"
	CodeQueueNameExists        = "QueueNameExists"
	CodeInvalidParameterValue  = "InvalidParameterValue"
	CodeInvalidAttributeValue  = "InvalidAttributeValue"
	CodeInvalidMessageContents = "InvalidMessageContents"
	CodeMissingParameter       = "MissingParameter"
	CodeReceiptHandleIsInvalid = "ReceiptHandleIsInvalid"
	CodeMessageNotInflight     = "MessageNotInflight"
)

// Error is an error of a queue operation with the code Amazon SQS gives
// it. The engine fails an sqs:sendMessage task with ErrorName, so a state
// machine's Retry and Catch match the same names as on AWS.
type Error struct {
	// Code is the SQS error code, one of the Code constants.
	Code string
	// Message says what was wrong and names the queue, message or
	// parameter.
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrorName returns the name Step Functions gives the error in a task
// failure: "SQS." followed by the exception name, such as
// "SQS.QueueDoesNotExistException".
func (e *Error) ErrorName() string { return "SQS." + e.Code + "Exception" }

// ErrClosed is returned by every operation of a closed Broker.
var ErrClosed = errors.New("queue broker is closed")

func newError(code, msg string) *Error { return &Error{Code: code, Message: msg} }
