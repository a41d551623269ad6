// Command recorder is the Lambda that copies the history of Step Functions
// executions into the event store: an EventBridge rule sends it every
// "Step Functions Execution Status Change" event of the stack's state
// machines, and it reads the execution's history with GetExecutionHistory
// and appends what is new (see internal/recorder). It only wires: the
// recorder is built once per cold start.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/recorder"
)

func main() {
	r, closePool, err := recorder.NewFromEnv(context.Background(), os.LookupEnv, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/recorder: %v\n", err)
		os.Exit(1)
	}
	defer closePool()
	lambda.StartHandlerFunc(r.Handle)
}
