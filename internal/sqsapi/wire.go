package sqsapi

// Request and response shapes, with the member names of the SQS API.

type queueURLResponse struct {
	QueueURL string `json:"QueueUrl"`
}

type listQueuesResponse struct {
	QueueURLs []string `json:"QueueUrls,omitempty"`
	NextToken string   `json:"NextToken,omitempty"`
}

type attributesResponse struct {
	Attributes map[string]string `json:"Attributes,omitempty"`
}

// wireAttribute is a MessageAttributeValue; BinaryValue travels as base64,
// which encoding/json does for []byte.
type wireAttribute struct {
	DataType         string   `json:"DataType"`
	StringValue      *string  `json:"StringValue,omitempty"`
	BinaryValue      []byte   `json:"BinaryValue,omitempty"`
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

type sendMessageResponse struct {
	MessageID                    string `json:"MessageId"`
	MD5OfMessageBody             string `json:"MD5OfMessageBody"`
	MD5OfMessageAttributes       string `json:"MD5OfMessageAttributes,omitempty"`
	MD5OfMessageSystemAttributes string `json:"MD5OfMessageSystemAttributes,omitempty"`
}

// sendEntry is an entry of SendMessageBatch.
type sendEntry struct {
	ID                      string                   `json:"Id"`
	MessageBody             *string                  `json:"MessageBody"`
	DelaySeconds            *int                     `json:"DelaySeconds"`
	MessageAttributes       map[string]wireAttribute `json:"MessageAttributes"`
	MessageSystemAttributes map[string]wireAttribute `json:"MessageSystemAttributes"`
	MessageDeduplicationID  *string                  `json:"MessageDeduplicationId"`
	MessageGroupID          *string                  `json:"MessageGroupId"`
}

type sendBatchResultEntry struct {
	ID string `json:"Id"`
	sendMessageResponse
}

type batchFailure struct {
	ID          string `json:"Id"`
	SenderFault bool   `json:"SenderFault"`
	Code        string `json:"Code"`
	Message     string `json:"Message,omitempty"`
}

type sendBatchResponse struct {
	Successful []sendBatchResultEntry `json:"Successful"`
	Failed     []batchFailure         `json:"Failed"`
}

// handleEntry is an entry of DeleteMessageBatch and
// ChangeMessageVisibilityBatch.
type handleEntry struct {
	ID                string `json:"Id"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int   `json:"VisibilityTimeout"`
}

type idEntry struct {
	ID string `json:"Id"`
}

type batchResponse struct {
	Successful []idEntry      `json:"Successful"`
	Failed     []batchFailure `json:"Failed"`
}

type wireMessage struct {
	MessageID              string                   `json:"MessageId"`
	ReceiptHandle          string                   `json:"ReceiptHandle"`
	MD5OfBody              string                   `json:"MD5OfBody"`
	Body                   string                   `json:"Body"`
	Attributes             map[string]string        `json:"Attributes,omitempty"`
	MD5OfMessageAttributes string                   `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      map[string]wireAttribute `json:"MessageAttributes,omitempty"`
}

type receiveResponse struct {
	Messages []wireMessage `json:"Messages,omitempty"`
}

// empty is the response of actions that return nothing.
type empty struct{}
