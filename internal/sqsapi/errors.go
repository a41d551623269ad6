package sqsapi

import "github.com/aiflow/aiflow/internal/awsjson"

// SQS error codes, as the __type of the JSON protocol names them (after
// the '#'). The Broker returns the first group; the handler itself
// answers with the others.
const (
	CodeQueueDoesNotExist      = "QueueDoesNotExist"
	CodeQueueNameExists        = "QueueNameExists"
	CodeInvalidParameterValue  = "InvalidParameterValue"
	CodeInvalidAttributeValue  = "InvalidAttributeValue"
	CodeInvalidMessageContents = "InvalidMessageContents"
	CodeMissingParameter       = "MissingParameter"
	CodeReceiptHandleIsInvalid = "ReceiptHandleIsInvalid"
	CodeMessageNotInflight     = "MessageNotInflight"

	CodeInvalidAttributeName         = "InvalidAttributeName"
	CodeUnsupportedOperation         = "UnsupportedOperation"
	CodeEmptyBatchRequest            = "EmptyBatchRequest"
	CodeTooManyEntriesInBatchRequest = "TooManyEntriesInBatchRequest"
	CodeBatchEntryIdsNotDistinct     = "BatchEntryIdsNotDistinct"
	CodeInvalidBatchEntryID          = "InvalidBatchEntryId"
	CodeBatchRequestTooLong          = "BatchRequestTooLong"
	// CodeUnknownOperation answers an X-Amz-Target that names no action of
	// the SQS API.
	CodeUnknownOperation = awsjson.CodeUnknownOperation
	// CodeSerialization answers a body that is not a JSON object, or has a
	// member of the wrong type or one the action does not have.
	CodeSerialization = awsjson.CodeSerialization
	// CodeInternalFailure answers a failure inside the service; its
	// message never carries the failure's text.
	CodeInternalFailure = awsjson.CodeInternalFailure
)

// queryCodes are the codes of the x-amzn-query-error header where they
// differ from the JSON protocol's: the codes of SQS's older query
// protocol, which SDKs in query-compatible mode report as the error code.
var queryCodes = map[string]string{
	CodeQueueDoesNotExist:            "AWS.SimpleQueueService.NonExistentQueue",
	CodeQueueNameExists:              "QueueAlreadyExists",
	CodeMessageNotInflight:           "AWS.SimpleQueueService.MessageNotInflight",
	CodeUnsupportedOperation:         "AWS.SimpleQueueService.UnsupportedOperation",
	CodeEmptyBatchRequest:            "AWS.SimpleQueueService.EmptyBatchRequest",
	CodeTooManyEntriesInBatchRequest: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
	CodeBatchEntryIdsNotDistinct:     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
	CodeInvalidBatchEntryID:          "AWS.SimpleQueueService.InvalidBatchEntryId",
	CodeBatchRequestTooLong:          "AWS.SimpleQueueService.BatchRequestTooLong",
}

// Error is an error the caller caused, with its SQS code. The Broker
// returns it for requests the queue refuses.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Message says what was wrong and names the queue, message or member.
	Message string
}

// Error returns the code and the message.
func (e *Error) Error() string { return e.Code + ": " + e.Message }
