// Command migrate is the Lambda behind the Custom::Migrations resource of
// template.yaml: on every deploy that creates or changes the resource it
// makes the service roles, applies the embedded migrations, grants the
// roles their privileges and, on development stacks, seeds the support
// desk, then answers CloudFormation (see internal/migratefunction). It
// only wires: the configuration comes from internal/config, and the
// function is built once per cold start by migratefunction.New, the same
// handler `aiflow invoke migrate` runs.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/migratefunction"
	"github.com/aiflow/aiflow/internal/telemetry/tracing"
)

func main() {
	cfg, err := config.LoadMigrateFunction(os.LookupEnv)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // it names the binary itself
		os.Exit(1)
	}
	f, err := migratefunction.New(context.Background(), migratefunction.Options{Config: cfg})
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/migrate: %v\n", err)
		os.Exit(1)
	}
	// Tracing is off unless OTEL_* variables ask for it (the template's
	// OtelExporterEndpoint); on, each invocation is a span whose parent is
	// the function's X-Ray trace header, flushed before it returns.
	traces, err := tracing.SetupFromEnv(os.LookupEnv, "aiflow-migrate", nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "functions/migrate: %v\n", err)
		os.Exit(1)
	}
	lambda.StartHandlerFunc(tracing.WrapLambda(tracing.LambdaParams{Provider: traces, LookupFunc: os.LookupEnv}, f.Handle))
}
