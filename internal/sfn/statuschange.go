package sfn

// The EventBridge event Step Functions sends when an execution's status
// changes: its source and detail type.
const (
	StatusChangeSource     = "aws.states"
	StatusChangeDetailType = "Step Functions Execution Status Change"
)

// ExecutionStatusChange is the detail of a "Step Functions Execution Status
// Change" event, its fields in Step Functions' order. Dates are
// milliseconds since the Unix epoch; Step Functions sends null for what
// does not apply (stopDate while RUNNING, output unless SUCCEEDED, error
// and cause unless FAILED, TIMED_OUT or ABORTED).
type ExecutionStatusChange struct {
	ExecutionARN    string       `json:"executionArn"`
	StateMachineARN string       `json:"stateMachineArn"`
	Name            string       `json:"name"`
	Status          string       `json:"status"`
	StartDate       int64        `json:"startDate"`
	StopDate        *int64       `json:"stopDate"`
	Input           *string      `json:"input"`
	Output          *string      `json:"output"`
	InputDetails    *DataDetails `json:"inputDetails"`
	OutputDetails   *DataDetails `json:"outputDetails"`
	Error           *string      `json:"error"`
	Cause           *string      `json:"cause"`
}

// DataDetails says whether an input or output is in the event (it is
// left out when it is too large).
type DataDetails struct {
	Included bool `json:"included"`
}
