// Command aistep is the Lambda that runs ai steps: an SQS event source
// feeds it the messages of the ai-steps queue, and it answers each task
// with SendTaskSuccess or SendTaskFailure. It only wires: the configuration
// comes from internal/config, the worker is built once per cold start by
// internal/stepworker/aiworker (the same handler `aiflow invoke aistep`
// runs), and every batch goes to internal/steps.
package main

import (
	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/stepworker"
	"github.com/aiflow/aiflow/internal/stepworker/aiworker"
)

func main() { stepworker.Main("aistep", config.LoadAIStep, aiworker.New) }
