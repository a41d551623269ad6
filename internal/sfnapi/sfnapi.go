// Package sfnapi serves the Step Functions API over HTTP in the AWS JSON 1.0
// protocol, on top of the local engine: POST / with
// X-Amz-Target: AWSStepFunctions.<Operation>. Any Step Functions client (the
// aws-sdk-go-v2 sfn client, the AWS CLI with --endpoint-url, other SDKs)
// can drive the engine through it.
//
// The package owns the wire format only: the request and response members
// as the Step Functions API reference names them, epoch-second timestamps,
// error bodies that SDKs decode into their typed errors, and request ids.
// Semantics (names, ARNs, tokens, executions) belong to the Service.
//
// Text is gated before anything reaches the Service (internal/textgate): a
// NUL, invalid UTF-8 or a lone surrogate, raw or as a JSON escape, in any
// member or in the JSON document an input or output member holds, is
// refused with InvalidExecutionInput (StartExecution's input),
// InvalidOutput (SendTaskSuccess's output) or ValidationException naming
// the member, never replaced by U+FFFD.
//
// Requests are not authenticated: SigV4 Authorization headers are accepted
// and ignored, whatever the credentials, as Step Functions Local does.
package sfnapi
