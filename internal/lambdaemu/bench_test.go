package lambdaemu_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aiflow/aiflow/internal/lambdaemu"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// coldStartFunctions are the functions whose cold start the benchmarks
// measure: the test function (aws-lambda-go alone), functions/mcpserver,
// which answers its sample event with no database, functions/aistep,
// which builds its model providers at init and answers an empty batch with
// no database, and functions/servicestep and functions/healthcheck, which
// open the event store at init. (functions/api, mcpstep, migrate and
// recorder start in internal/stack's BenchmarkOneStepExecution.)
var coldStartFunctions = []struct {
	name, pkg, event string
	env              map[string]string
	// database: DATABASE_URL is a fresh migrated database's.
	database bool
}{
	{name: "echo", event: `{"echo": {"n": 1}}`},
	{name: "McpServerFunction", pkg: "./functions/mcpserver", event: "../../events/mcpserver-tools-list.json", env: map[string]string{
		"DATABASE_URL":                "postgres://aiflow_support@127.0.0.1:1/aiflow?sslmode=disable",
		"AIFLOW_SUPPORT_TOKEN_SECRET": "sample-event-secret-do-not-deploy-0123456789",
	}},
	{name: "AiStepFunction", pkg: "./functions/aistep", event: "testdata/aistep-empty-batch.json", env: map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret",
	}},
	// The two that open the event store at their start (the service
	// registry's) get a migrated database of their own (database).
	{name: "ServiceStepFunction", pkg: "./functions/servicestep", event: "testdata/aistep-empty-batch.json", database: true, env: map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example-secret",
	}},
	// A round of checks of a second, not most of the minute.
	{name: "HealthCheckFunction", pkg: "./functions/healthcheck", event: "../../events/healthcheck-scheduled.json", database: true, env: map[string]string{
		"AIFLOW_HEALTHCHECK_RUN_FOR": "1s",
	}},
}

// BenchmarkColdStart starts an instance, invokes it once and closes it, per
// iteration; it reports the runtime's init duration (the emulator's INIT
// REPORT, the figure Lambda reports as Init Duration) and the first
// invocation's duration, in milliseconds.
func BenchmarkColdStart(b *testing.B) {
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	for _, fn := range coldStartFunctions {
		b.Run(fn.name, func(b *testing.B) {
			ctx := context.Background()
			bootstrap, payload := echo, []byte(fn.event)
			if fn.pkg != "" {
				bootstrap = filepath.Join(buildsDir, fn.name, "bootstrap")
				if err := builder.Bootstrap(ctx, fn.pkg, bootstrap); err != nil {
					b.Fatal(err)
				}
				var err error
				if payload, err = os.ReadFile(fn.event); err != nil {
					b.Fatal(err)
				}
			}
			env := fn.env
			if fn.database {
				env = maps.Clone(fn.env)
				env["DATABASE_URL"] = pgclustertest.Database(b)
			}
			b.ReportAllocs()
			var initTotal, firstTotal time.Duration
			b.ResetTimer()
			for range b.N {
				inst, err := lambdaemu.Start(ctx, lambdaemu.Params{Name: fn.name, Emulator: emulator, Bootstrap: bootstrap, Env: env, Timeout: 30 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				res, err := inst.Invoke(ctx, payload)
				if err == nil && res.FunctionError != nil {
					err = res.FunctionError
				}
				if cerr := inst.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					b.Fatal(err)
				}
				initTotal += res.InitDuration
				firstTotal += res.Duration
			}
			b.ReportMetric(float64(initTotal.Microseconds())/1000/float64(b.N), "init-ms/op")
			b.ReportMetric(float64(firstTotal.Microseconds())/1000/float64(b.N), "first-invoke-ms/op")
		})
	}
}
