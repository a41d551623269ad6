// Command aistep is the Lambda that runs ai steps: an SQS event source
// feeds it the messages of the ai-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the worker is
// built once per cold start by internal/stepworker (the same handler
// `aiflow invoke aistep` runs), and every batch goes to internal/steps.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/stepworker"
)

func main() {
	w, err := stepworker.NewAIStep(context.Background(), stepworker.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, stepworker.ErrorOf("functions/aistep", err))
		os.Exit(1)
	}
	w.Logger.Info("aistep ready", "config", w.Config)
	lambda.StartHandlerFunc(w.Runtime.Handle)
}
