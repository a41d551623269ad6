package httpapi_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/httpapi"
)

// An execution's id in URLs is its ARN in unpadded base64url.
func ExampleExecutionID() {
	arn := "arn:aws:states:us-east-1:123456789012:execution:reply:ticket-4711"
	fmt.Println("/v1/executions/" + httpapi.ExecutionID(arn))
	// Output:
	// /v1/executions/YXJuOmF3czpzdGF0ZXM6dXMtZWFzdC0xOjEyMzQ1Njc4OTAxMjpleGVjdXRpb246cmVwbHk6dGlja2V0LTQ3MTE
}
