// Package sqsapi serves the Amazon SQS API over HTTP in the AWS JSON
// protocol, on top of a local queue broker: POST / with
// X-Amz-Target: AmazonSQS.<Action> and Content-Type
// application/x-amz-json-1.0. The aws-sdk-go-v2 sqs client, the AWS CLI
// with --endpoint-url and any other SDK can create queues, send, receive,
// change visibility and delete through it.
//
// The package owns the wire format only: the request and response members
// as the SQS API reference names them, the attribute names of queues and
// messages, batch entries with their partial failures, digests of message
// attributes, error bodies that SDKs decode into their typed errors (a
// "__type" of com.amazonaws.sqs#<Shape> and the x-amzn-query-error header
// with the legacy query code, such as
// AWS.SimpleQueueService.NonExistentQueue;Sender), and request ids. What a
// queue does (visibility timeouts, receive counts, dead-letter queues,
// delays, long polls) belongs to the Broker it is given.
//
// # Why a Broker interface of its own
//
// The local queue lives in the engine (internal/engine/queue), which
// nothing but wiring may import, and the engine's packages may import
// nothing of the rest of aiflow. So this package states the operations
// it serves as the Broker interface, with types of its own, and the
// subpackage sqsqueue, which is wiring, adapts the engine's *queue.Broker
// to it. The queue keeps its own types, which its event source mappings
// and the engine's sqs:sendMessage tasks use; the adapter only copies
// fields and translates errors. The digest of message attributes is
// computed here too, because a receive that asks for some attributes only
// gets the digest of those.
//
// # What is refused
//
// The broker has standard queues only. FIFO queues (FifoQueue,
// ContentBasedDeduplication, MessageGroupId, MessageDeduplicationId),
// encryption (KmsMasterKeyId, SqsManagedSseEnabled true), access policies,
// redrive allow policies, tags and the actions that change a queue after
// its creation (SetQueueAttributes, AddPermission, message move tasks) are
// refused with UnsupportedOperation or InvalidAttributeName naming what is
// not supported, rather than accepted and silently ignored.
//
// Requests are not authenticated: SigV4 Authorization headers are accepted
// and ignored, whatever the credentials.
package sqsapi
