// Package awslambda invokes Lambda functions through the Lambda Invoke API
// with the aws-sdk-go-v2 lambda client: the engine.FunctionInvoker the
// local engine uses for functions that have no handler in its process,
// pointed at AWS or at a local endpoint such as `sam local start-lambda`,
// as Step Functions Local does.
package awslambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/aiflow/aiflow/internal/sfn"
)

// Invoker is an engine.FunctionInvoker over the Lambda Invoke API.
type Invoker struct {
	client *lambda.Client
}

var _ sfn.FunctionInvoker = (*Invoker)(nil)

// New returns an Invoker that calls functions with client.
func New(client *lambda.Client) *Invoker {
	return &Invoker{client: client}
}

// NewClient returns a Lambda client for region. With an endpoint (such as
// http://127.0.0.1:3001 for `sam local start-lambda`) the client sends
// every call there and signs with static dummy credentials, which local
// endpoints accept; without one it uses the SDK's endpoint resolution
// (which honours AWS_ENDPOINT_URL_LAMBDA) and default credential chain.
// The client makes one attempt per call: a state machine's Retry on
// Lambda.TooManyRequestsException or Lambda.ServiceException is where
// retries belong, as on Step Functions.
func NewClient(ctx context.Context, endpoint, region string) (*lambda.Client, error) {
	if region == "" {
		return nil, errors.New("creating Lambda client: the region is empty")
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if endpoint != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration for Lambda: %w", err)
	}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// Invoke calls the function synchronously (RequestResponse). A function
// error is in the result's FunctionError ("Unhandled" or "Handled"), with
// the function's error document as Payload. A call the service refused is
// an *Error named after the service's exception, such as
// Lambda.ResourceNotFoundException; a call that got no answer is an
// *Error named Lambda.SdkClientException; a canceled or expired ctx is
// returned wrapped, without a name.
func (i *Invoker) Invoke(ctx context.Context, p sfn.InvokeParams) (sfn.InvokeResult, error) {
	if p.FunctionName == "" {
		return sfn.InvokeResult{}, &Error{Name: "Lambda.InvalidParameterValueException", Message: "the function name is empty"}
	}
	in := &lambda.InvokeInput{
		FunctionName:   aws.String(p.FunctionName),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        p.Payload,
	}
	if p.ClientContext != "" {
		in.ClientContext = aws.String(p.ClientContext)
	}
	out, err := i.client.Invoke(ctx, in)
	if err != nil {
		return sfn.InvokeResult{}, interpretError(ctx, p.FunctionName, err)
	}
	return sfn.InvokeResult{
		StatusCode:      int(out.StatusCode),
		Payload:         out.Payload,
		ExecutedVersion: aws.ToString(out.ExecutedVersion),
		FunctionError:   aws.ToString(out.FunctionError),
	}, nil
}

// Error is a failed Invoke call, named as Step Functions names the errors
// of its Lambda integration so that a state machine's Retry and Catch
// match them.
type Error struct {
	// Name is "Lambda." followed by the service's exception name, such as
	// Lambda.ResourceNotFoundException or Lambda.TooManyRequestsException.
	Name string
	// Message is the service's message.
	Message string
	// StatusCode is the HTTP status of the response, 0 when there was none.
	StatusCode int
	// Err is the SDK's error.
	Err error
}

// Error returns the name and the message.
func (e *Error) Error() string { return e.Name + ": " + e.Message }

// ErrorName returns Name, the error name a failed task reports.
func (e *Error) ErrorName() string { return e.Name }

// Unwrap returns the SDK's error.
func (e *Error) Unwrap() error { return e.Err }

// interpretError translates an error of the lambda client.
func interpretError(ctx context.Context, function string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("invoking function %s: %w", function, ctx.Err())
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		if code == "" || code == "UnknownError" {
			// A response without an error type, such as a proxy's: name it
			// as the Java SDK that Step Functions uses would.
			code, msg = "AWSLambdaException", ""
			if status >= http.StatusInternalServerError {
				code = "ServiceException"
			}
		}
		if msg == "" {
			msg = fmt.Sprintf("invoking function %s failed with HTTP status %d", function, status)
		}
		return &Error{Name: "Lambda." + code, Message: msg, StatusCode: status, Err: err}
	}
	return &Error{Name: "Lambda.SdkClientException", Message: fmt.Sprintf("invoking function %s: %v", function, err), StatusCode: status, Err: err}
}
