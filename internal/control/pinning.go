package control

import "github.com/aiflow/aiflow/internal/apistore"

// startARN is the ARN an execution of workflow version v starts on: the
// Step Functions version it was published as, so that the execution runs
// that version's definition on AWS as it does in the engine, even when a
// later version is published while it runs. A version published before
// versions were recorded has none and starts on the state machine's
// unqualified ARN, which runs its latest revision, as it always did.
func startARN(wf apistore.Workflow, v apistore.Version) string {
	if v.StateMachineVersionARN != "" {
		return v.StateMachineVersionARN
	}
	return wf.StateMachineARN
}
