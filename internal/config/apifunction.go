package config

import "log/slog"

// APIFunction is the configuration of the functions/api Lambda (and
// `aiflow invoke api`): the database and logging of API, the
// authentication of Auth, and how published state machines reach AWS.
type APIFunction struct {
	API
	// Auth is AIFLOW_AUTH_*, AIFLOW_RATE_LIMIT, AIFLOW_RATE_BURST and
	// AIFLOW_TRUSTED_PROXIES.
	Auth Auth
	// SFNEndpoint is AIFLOW_SFN_ENDPOINT: the Step Functions API to call,
	// such as the local engine's; empty means AWS.
	SFNEndpoint string
	// Queues are the URLs of the queues published state machines send
	// their steps to (template.yaml sets them); empty when unset.
	Queues StepQueues
	// StateMachinePrefix is AIFLOW_STATE_MACHINE_PREFIX, the prefix of the
	// stack's state machine names.
	StateMachinePrefix string
	// StateMachineRoleARN is AIFLOW_STATE_MACHINE_ROLE_ARN, the role state
	// machines run with.
	StateMachineRoleARN string
	// StateMachineLogs is how published state machines log their
	// executions.
	StateMachineLogs StateMachineLogs
	// StateMachineTracing is AIFLOW_STATE_MACHINE_TRACING: X-Ray tracing
	// of published state machines (default false).
	StateMachineTracing bool
	// Version is AWS_LAMBDA_FUNCTION_VERSION, which /healthz reports.
	Version string
	// Blobs is where the step workers keep large step results, which the
	// API reads to resolve references (AIFLOW_BLOB_*).
	Blobs Blobs
}

// StateMachineLogs is the CloudWatch Logs logging of published state
// machines.
type StateMachineLogs struct {
	// LogGroupARN is AIFLOW_STATE_MACHINE_LOG_GROUP_ARN, the log group's
	// ARN (ending in ":*"); empty logs nothing.
	LogGroupARN string
	// Level is AIFLOW_STATE_MACHINE_LOG_LEVEL: ALL, ERROR (the default),
	// FATAL or OFF.
	Level string
	// IncludeExecutionData is AIFLOW_STATE_MACHINE_LOG_EXECUTION_DATA:
	// whether the states' input and output are logged (default false).
	IncludeExecutionData bool
}

// StepQueues are the URLs of the step queues, by kind of step.
type StepQueues struct {
	// AI is AIFLOW_AI_STEP_QUEUE_URL.
	AI string
	// MCP is AIFLOW_MCP_STEP_QUEUE_URL.
	MCP string
	// Service is AIFLOW_SERVICE_STEP_QUEUE_URL.
	Service string
	// Approval is AIFLOW_APPROVAL_QUEUE_URL.
	Approval string
}

// LoadAPIFunction reads APIFunction from the environment through lookup.
// When variables are missing or invalid it returns an *Error naming
// functions/api and listing all of them (API's and Auth's together), with
// defaults in their place.
func LoadAPIFunction(lookup LookupFunc) (APIFunction, error) {
	r := newReader(lookup)
	c := APIFunction{
		API:         readAPI(r),
		Auth:        readAuth(r),
		SFNEndpoint: r.string("AIFLOW_SFN_ENDPOINT", ""),
		Queues: StepQueues{
			AI:       r.string("AIFLOW_AI_STEP_QUEUE_URL", ""),
			MCP:      r.string("AIFLOW_MCP_STEP_QUEUE_URL", ""),
			Service:  r.string("AIFLOW_SERVICE_STEP_QUEUE_URL", ""),
			Approval: r.string("AIFLOW_APPROVAL_QUEUE_URL", ""),
		},
		StateMachinePrefix:  r.string("AIFLOW_STATE_MACHINE_PREFIX", ""),
		StateMachineRoleARN: r.string("AIFLOW_STATE_MACHINE_ROLE_ARN", ""),
		StateMachineLogs: StateMachineLogs{
			LogGroupARN:          r.string("AIFLOW_STATE_MACHINE_LOG_GROUP_ARN", ""),
			Level:                r.enum("AIFLOW_STATE_MACHINE_LOG_LEVEL", "ERROR", "ALL", "ERROR", "FATAL", "OFF"),
			IncludeExecutionData: r.bool("AIFLOW_STATE_MACHINE_LOG_EXECUTION_DATA", false),
		},
		StateMachineTracing: r.bool("AIFLOW_STATE_MACHINE_TRACING", false),
		Version:             r.string("AWS_LAMBDA_FUNCTION_VERSION", ""),
	}
	c.Blobs = r.blobs(c.Database, DefaultAPIMaxResolvedBytes)
	return c, r.err("functions/api")
}

// DefaultAPIMaxResolvedBytes is the API's Blobs.MaxResolvedBytes by
// default: an answer stays under a Lambda function's 6 MB response.
const DefaultAPIMaxResolvedBytes = 5 << 20

// LogValue shows the configuration in logs with the database password
// masked and the HMAC key hidden.
func (c APIFunction) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Attr{Key: "api", Value: c.API.LogValue()},
		slog.Attr{Key: "auth", Value: c.Auth.LogValue()},
		slog.String("sfn_endpoint", c.SFNEndpoint),
		slog.String("ai_step_queue_url", c.Queues.AI),
		slog.String("mcp_step_queue_url", c.Queues.MCP),
		slog.String("service_step_queue_url", c.Queues.Service),
		slog.String("approval_queue_url", c.Queues.Approval),
		slog.String("state_machine_prefix", c.StateMachinePrefix),
		slog.String("state_machine_role_arn", c.StateMachineRoleARN),
		slog.String("state_machine_log_group_arn", c.StateMachineLogs.LogGroupARN),
		slog.String("state_machine_log_level", c.StateMachineLogs.Level),
		slog.Bool("state_machine_log_execution_data", c.StateMachineLogs.IncludeExecutionData),
		slog.Bool("state_machine_tracing", c.StateMachineTracing),
		slog.String("version", c.Version),
		slog.Attr{Key: "blobs", Value: c.Blobs.LogValue()},
	)
}
