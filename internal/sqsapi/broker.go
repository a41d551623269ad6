package sqsapi

import (
	"context"
	"time"
)

// Broker is the queue operations the API serves. Its errors are *Error
// with an SQS code when the caller was wrong; any other error is an
// internal failure.
type Broker interface {
	Queues
	Messages
}

// Queues creates, finds, describes, purges and deletes queues. An
// unknown queue is an *Error QueueDoesNotExist; CreateQueue with a name
// taken by a queue configured otherwise is an *Error QueueNameExists,
// and invalid settings an *Error InvalidAttributeValue or
// InvalidParameterValue.
type Queues interface {
	// CreateQueue creates a queue, or returns the URL of an identical one.
	CreateQueue(ctx context.Context, c QueueConfig) (url string, err error)
	// QueueURL returns the URL of the queue named name.
	QueueURL(ctx context.Context, name string) (string, error)
	// ListQueues returns the URLs of the queues whose names start with
	// prefix, in name order.
	ListQueues(ctx context.Context, prefix string) ([]string, error)
	// DescribeQueue returns a queue's configuration, ARN and counts.
	DescribeQueue(ctx context.Context, url string) (QueueInfo, error)
	// PurgeQueue deletes every message of a queue; DeleteQueue deletes the
	// queue.
	PurgeQueue(ctx context.Context, url string) error
	DeleteQueue(ctx context.Context, url string) error
}

// Messages sends, receives and settles messages.
type Messages interface {
	// Send queues a message and returns its id and digests; an invalid
	// body, attribute or delay is an *Error (InvalidMessageContents,
	// InvalidParameterValue, MissingParameter).
	Send(ctx context.Context, p SendParams) (SendResult, error)
	// Receive waits up to p.Wait for messages; it returns none and no
	// error when none came, and the context's error when ctx ends first.
	Receive(ctx context.Context, p ReceiveParams) ([]Message, error)
	// DeleteMessage deletes the message whose latest receipt handle is
	// receiptHandle; any other handle is an *Error ReceiptHandleIsInvalid.
	DeleteMessage(ctx context.Context, url, receiptHandle string) error
	// ChangeVisibility sets an in-flight message's visibility timeout from
	// now; 0 makes it visible at once. A message no longer in flight is an
	// *Error MessageNotInflight.
	ChangeVisibility(ctx context.Context, url, receiptHandle string, timeout time.Duration) error
}

// QueueConfig configures a queue; zero values mean the broker's defaults.
type QueueConfig struct {
	Name string
	// URL is the queue's URL; empty lets the broker choose.
	URL                    string
	VisibilityTimeout      time.Duration
	DelaySeconds           int
	MessageRetention       time.Duration
	MaximumMessageSize     int
	ReceiveMessageWaitTime time.Duration
	// MaxReceiveCount and DeadLetterURL are the redrive policy.
	MaxReceiveCount int
	DeadLetterURL   string
}

// QueueInfo describes a queue: its configuration with the defaults
// filled in, its ARN, and how many messages are in each state.
type QueueInfo struct {
	Config                     QueueConfig
	ARN                        string
	Visible, InFlight, Delayed int
}

// Attribute is a message attribute: a DataType of String, Number or
// Binary (optionally followed by a period and a custom label) and its
// value.
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// SendParams is one message to send.
type SendParams struct {
	QueueURL   string
	Body       string
	Attributes map[string]Attribute
	// TraceHeader is the AWSTraceHeader system attribute.
	TraceHeader string
	// DelaySeconds is the message's delay; nil takes the queue's.
	DelaySeconds *int
}

// SendResult is a sent message's id and digests.
type SendResult struct {
	MessageID, MD5OfBody, MD5OfAttributes string
}

// ReceiveParams says what to receive.
type ReceiveParams struct {
	QueueURL string
	Max      int
	Wait     time.Duration
	// VisibilityTimeout, when set, replaces the queue's for this receive.
	VisibilityTimeout *time.Duration
}

// Message is a received message.
type Message struct {
	ID, ReceiptHandle, Body    string
	MD5OfBody, MD5OfAttributes string
	Attributes                 map[string]Attribute
	// SystemAttributes are ApproximateReceiveCount, SentTimestamp,
	// SenderId, ApproximateFirstReceiveTimestamp and AWSTraceHeader when
	// there is one.
	SystemAttributes map[string]string
}
