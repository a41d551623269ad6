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

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/recorder"
)

func main() {
	cfg, err := config.LoadRecorder(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	r, closePool, err := recorder.NewFromConfig(context.Background(), cfg, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/recorder: %v\n", err)
		os.Exit(1)
	}
	defer closePool()
	lambda.StartHandlerFunc(r.Handle)
}
