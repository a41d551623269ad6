// Package steps is the step runtime: it turns the SQS message of a task
// step (the MessageBody the workflow compiler writes for a Task state with
// arn:aws:states:::sqs:sendMessage.waitForTaskToken) into a call of the
// step kind's Handler, keeps the task alive with heartbeats while the
// handler runs, and answers Step Functions (or the local engine) through
// the Callbacks port with SendTaskSuccess or SendTaskFailure.
//
// The package also holds the ai step's handler (AI): provider resolution,
// retries inside the step's deadline, streaming to an in-process Broker,
// structured output validated against the step's JSON Schema, the agent
// loop over a ToolRunner, usage, cost and token budgets, and detail events
// through a DetailRecorder.
//
// Every failure a workflow can catch has a name: the ai package's AI.*
// codes, and the few this package adds (see Codes).
package steps
