// Command servicestep is the Lambda that runs service steps: an SQS event
// source feeds it the messages of the service-steps queue, and it answers
// each task with SendTaskSuccess or SendTaskFailure. It only wires: the
// configuration (the step settings, the database the service registry is
// read from, AIFLOW_SERVICE_SECRETS, the egress caps) comes from
// internal/config, and the worker is built once per cold start by
// internal/stepworker/serviceworker, the same handler `aiflow invoke
// servicestep` runs. It links no model SDK.
package main

import (
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/serviceworker"
)

func main() { stepworker.Main("servicestep", config.LoadServiceStep, serviceworker.New) }
