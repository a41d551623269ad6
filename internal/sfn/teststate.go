package sfn

import "context"

// StateTester runs one state on its own: Step Functions' TestState. The
// local engine implements it, and so does the adapter over the AWS SDK.
type StateTester interface {
	// TestState runs the state of in.Definition with in.Input and says
	// what it did. A definition that is not a valid state (or state
	// machine, with StateName) is InvalidDefinition; input that is not
	// JSON is InvalidExecutionInput; a request the API refuses (a state
	// that needs a mock, a mock where none is allowed) is
	// ValidationException.
	TestState(ctx context.Context, in TestStateInput) (TestStateOutput, error)
}

// Inspection levels of TestState.
const (
	InspectionInfo  = "INFO"
	InspectionDebug = "DEBUG"
	InspectionTrace = "TRACE"
)

// Statuses of a tested state.
const (
	TestStatusSucceeded   = "SUCCEEDED"
	TestStatusFailed      = "FAILED"
	TestStatusRetriable   = "RETRIABLE"
	TestStatusCaughtError = "CAUGHT_ERROR"
)

// TestStateInput is the input of TestState, with the members of the API.
type TestStateInput struct {
	// Definition is the state's ASL definition, or a whole state
	// machine's when StateName names the state to test.
	Definition string
	RoleARN    string
	// Input is the state's input JSON; empty means {}.
	Input string
	// InspectionLevel is INFO (the default), DEBUG or TRACE.
	InspectionLevel string
	RevealSecrets   bool
	// Variables is a JSON object of the variables in scope.
	Variables string
	StateName string
	// Mock replaces what a Task, Map or Parallel state would call.
	Mock *TestStateMock
	// Context is the Context Object ("$$") as JSON; only with a mock.
	Context            string
	StateConfiguration *TestStateConfiguration
}

// TestStateMock is a mocked result, or a mocked error, of the state under
// test.
type TestStateMock struct {
	Result              string
	ErrorOutput         *TestStateMockError
	FieldValidationMode string
}

// TestStateMockError is a mocked error and cause.
type TestStateMockError struct {
	Error string
	Cause string
}

// TestStateConfiguration configures the state under test.
type TestStateConfiguration struct {
	// RetrierRetryCount is how many retries the retrier that matches a
	// mocked error has made already.
	RetrierRetryCount        *int
	ErrorCausedByState       string
	MapIterationFailureCount *int
	MapItemReaderData        string
}

// TestStateOutput is what TestState answers.
type TestStateOutput struct {
	Output         string
	Error          string
	Cause          string
	InspectionData *InspectionData
	NextState      string
	Status         string
}

// InspectionData shows how a tested state processed its data: present at
// the DEBUG and TRACE levels. Empty strings are steps the state does not
// have.
type InspectionData struct {
	Input                      string
	AfterArguments             string
	AfterInputPath             string
	AfterParameters            string
	Result                     string
	AfterResultSelector        string
	AfterResultPath            string
	Variables                  string
	AfterItemsPath             string
	AfterItemSelector          string
	AfterItemBatcher           string
	ToleratedFailureCount      *int
	ToleratedFailurePercentage *float64
	MaxConcurrency             *int
	ErrorDetails               *InspectionErrorDetails
}

// InspectionErrorDetails says which retrier or catcher handled an error.
type InspectionErrorDetails struct {
	CatchIndex                  *int
	RetryIndex                  *int
	RetryBackoffIntervalSeconds *int
}
