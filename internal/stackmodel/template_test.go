package stackmodel

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/workflow"
)

// required are the values of template.yaml's parameters without a
// Default; everything else takes its default.
var required = map[string]string{
	"JwtIssuer":   "https://issuer.example",
	"JwtAudience": "aiflow,console",
	"VpcId":       "vpc-0123456789abcdef0",
	"SubnetIds":   "subnet-1,subnet-2",
}

func loadRepo(t *testing.T, extra map[string]string) *Stack {
	t.Helper()
	over := map[string]string{}
	for k, v := range required {
		over[k] = v
	}
	for k, v := range extra {
		over[k] = v
	}
	s, err := Load(LoadParams{Dir: "../..", Params: Params{Parameters: over}})
	require.NoError(t, err)
	return s
}

func TestRepositoryTemplateNeedsItsRequiredParameters(t *testing.T) {
	t.Parallel()
	_, err := Load(LoadParams{Dir: "../.."})
	require.ErrorContains(t, err, "Parameters.JwtAudience: no value")
}

func TestRepositoryTemplateFunctions(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	require.Equal(t, map[string]bool{
		"CreateDatabase": true, "IsProd": false, "CreateOpenAIKeySecret": true, "CreateAnthropicKeySecret": true,
		"DeployExamples": true, "DeploySupportServer": true, "HasSupportTokenSecretArn": false, "CreateSupportTokenSecret": true,
		"DefaultMcpServers": true, "HasApiReservedConcurrency": false, "HasAiStepReservedConcurrency": false,
		"HasMcpStepReservedConcurrency": false, "HasMcpServerReservedConcurrency": false, "HasRecorderReservedConcurrency": false,
		"HasServiceStepReservedConcurrency": false, "UseDatabaseProxy": false, "HasAlarmTopic": false, "HasAiScript": false,
		"HasExistingDatabaseSecret": false, "SeedsSupportData": true, "HasOtelCollectorLayer": false,
	}, s.Conditions)
	secretARN := map[string]string{}
	for _, sec := range s.Secrets {
		secretARN[sec.LogicalID] = sec.ARN
	}
	// Each function reads its own role's secret at cold start; the
	// migrations' function the master's.
	databaseSecret := map[string]string{
		"ApiFunction": "ApiDatabaseSecret", "RecorderFunction": "EngineDatabaseSecret",
		"AiStepFunction": "WorkerDatabaseSecret", "McpStepFunction": "WorkerDatabaseSecret",
		"McpServerFunction": "SupportDatabaseSecret", "MigrateFunction": "DatabaseSecret",
		"ServiceStepFunction": "WorkerDatabaseSecret", "HealthCheckFunction": "RegistryDatabaseSecret",
	}
	var ids []string
	for _, f := range s.Functions {
		ids = append(ids, f.LogicalID)
		require.Equal(t, "bootstrap", f.Handler, f.LogicalID)
		require.Equal(t, "provided.al2023", f.Runtime, f.LogicalID)
		require.Equal(t, "info", f.Environment["AIFLOW_LOG_LEVEL"], f.LogicalID)
		require.Equal(t, "json", f.Environment["AIFLOW_LOG_FORMAT"], f.LogicalID)
		require.Equal(t, "2", f.Environment["AIFLOW_DB_MAX_CONNS"], f.LogicalID)
		// No credentials in the environment: where the database is, and
		// which secret holds the function's own role's password.
		require.NotContains(t, f.Environment, "DATABASE_URL", f.LogicalID)
		require.Contains(t, f.Environment["AIFLOW_DATABASE_HOST"], ".cluster-", f.LogicalID)
		require.Equal(t, "5432", f.Environment["AIFLOW_DATABASE_PORT"], f.LogicalID)
		require.Equal(t, "aiflow", f.Environment["AIFLOW_DATABASE_NAME"], f.LogicalID)
		require.Equal(t, "require", f.Environment["AIFLOW_DATABASE_SSLMODE"], f.LogicalID)
		require.NotEmpty(t, secretARN[databaseSecret[f.LogicalID]], f.LogicalID)
		require.Equal(t, secretARN[databaseSecret[f.LogicalID]], f.Environment["AIFLOW_DATABASE_SECRET"], f.LogicalID)
	}
	// The support server is deployed by default, with a generated token
	// secret it reads at run time.
	require.Equal(t, []string{"AiStepFunction", "ApiFunction", "HealthCheckFunction", "McpServerFunction", "McpStepFunction", "MigrateFunction", "RecorderFunction", "ServiceStepFunction"}, ids)
	tokenARN := secretARN["SupportTokenSecret"]
	require.Contains(t, tokenARN, ":secret:aiflow/mcp/support-token-")
	server, _ := s.Function("McpServerFunction")
	require.Equal(t, tokenARN, server.Environment["AIFLOW_SUPPORT_TOKEN_SECRET_ARN"])
	require.NotContains(t, server.Environment, "AIFLOW_SUPPORT_TOKEN_SECRET")
	for _, f := range s.Functions {
		for k, v := range f.Environment {
			require.NotContains(t, v, "{{resolve:", "%s of %s: secrets are read at run time", k, f.LogicalID)
		}
		require.Zero(t, f.ReservedConcurrency, "no reserved concurrency by default")
	}

	api, _ := s.Function("ApiFunction")
	require.Equal(t, "functions/api", api.Folder)
	require.Equal(t, "aiflow-api", api.Name)
	require.Equal(t, 29*time.Second, api.Timeout)
	require.Equal(t, 512, api.MemoryMB)
	queueURL := func(id string) string {
		q, ok := s.Queue(id)
		require.True(t, ok, id)
		return q.URL
	}
	for k, v := range map[string]string{
		"AIFLOW_AUTH_MODE":                   "authorizer",
		"AIFLOW_AUTH_ISSUER":                 "https://issuer.example",
		"AIFLOW_AUTH_AUDIENCE":               "aiflow,console",
		"AIFLOW_STATE_MACHINE_PREFIX":        "aiflow-wf-",
		"AIFLOW_STATE_MACHINE_ROLE_ARN":      "arn:aws:iam::123456789012:role/aiflow-StateMachineRole",
		"AIFLOW_STATE_MACHINE_LOG_GROUP_ARN": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/aiflow:*",
		"AIFLOW_STATE_MACHINE_LOG_LEVEL":     "ERROR",
		"AIFLOW_STATE_MACHINE_TRACING":       "true",
		"AIFLOW_AI_STEP_QUEUE_URL":           queueURL("AiStepQueue"),
		"AIFLOW_MCP_STEP_QUEUE_URL":          queueURL("McpStepQueue"),
		"AIFLOW_SERVICE_STEP_QUEUE_URL":      queueURL("ServiceStepQueue"),
		"AIFLOW_APPROVAL_QUEUE_URL":          queueURL("ApprovalQueue"),
	} {
		require.Equal(t, v, api.Environment[k], k)
	}
	require.Equal(t, "https://sqs.us-east-1.amazonaws.com/123456789012/aiflow-AiStepQueue", queueURL("AiStepQueue"))

	ai, _ := s.Function("AiStepFunction")
	require.Equal(t, "functions/aistep", ai.Folder)
	require.Equal(t, 300*time.Second, ai.Timeout)
	require.Equal(t, "anthropic,openai,bedrock", ai.Environment["AIFLOW_AI_PROVIDERS"])
	require.Equal(t, "bedrock", ai.Environment["AIFLOW_AI_DEFAULT_PROVIDER"])
	require.Equal(t, "secretsmanager", ai.Environment["AIFLOW_AI_SECRETS"])
	require.Equal(t, secretARN["OpenAIApiKeySecret"], ai.Environment["AIFLOW_OPENAI_KEY_SECRET"])
	require.Equal(t, secretARN["AnthropicApiKeySecret"], ai.Environment["AIFLOW_ANTHROPIC_KEY_SECRET"])
	require.NotContains(t, ai.Environment, "OPENAI_API_KEY")
	require.NotContains(t, ai.Environment, "ANTHROPIC_API_KEY")
	require.NotContains(t, ai.Environment, "AIFLOW_AI_SCRIPT")
	// Both step workers reach the support server at its function URL with
	// its token secret.
	servers := `{"support": {"urls": ["` + s.FunctionURLs[0].URL + `"], "token_secret": "` + tokenARN + `"}}`
	require.Equal(t, servers, ai.Environment["AIFLOW_MCP_SERVERS"])
	require.Equal(t, "secretsmanager", ai.Environment["AIFLOW_MCP_SECRETS"])

	mcp, _ := s.Function("McpStepFunction")
	require.Equal(t, "functions/mcpstep", mcp.Folder)
	require.Equal(t, 120*time.Second, mcp.Timeout)
	require.Equal(t, 256, mcp.MemoryMB, "from Globals")
	require.Equal(t, map[string]string{"AIFLOW_MCP_SERVERS": servers, "AIFLOW_MCP_SECRETS": "secretsmanager"},
		map[string]string{"AIFLOW_MCP_SERVERS": mcp.Environment["AIFLOW_MCP_SERVERS"], "AIFLOW_MCP_SECRETS": mcp.Environment["AIFLOW_MCP_SECRETS"]})

	rec, _ := s.Function("RecorderFunction")
	require.Equal(t, "functions/recorder", rec.Folder)
	require.Equal(t, 60*time.Second, rec.Timeout)

	migrate, _ := s.Function("MigrateFunction")
	require.Equal(t, "functions/migrate", migrate.Folder)
	require.Equal(t, 300*time.Second, migrate.Timeout)
	require.Equal(t, strings.Join([]string{secretARN["ApiDatabaseSecret"], secretARN["EngineDatabaseSecret"], secretARN["SupportDatabaseSecret"], secretARN["WorkerDatabaseSecret"], secretARN["RegistryDatabaseSecret"]}, ","),
		migrate.Environment["AIFLOW_DATABASE_ROLE_SECRETS"])
}

func TestRepositoryTemplateWithEveryOption(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, map[string]string{
		"SupportTokenSecretArn":     "arn:aws:secretsmanager:us-east-1:123456789012:secret:support-token",
		"OpenAIApiKeySecretArn":     "arn:aws:secretsmanager:us-east-1:123456789012:secret:openai",
		"ExistingDatabaseEndpoint":  "db.example.internal",
		"ExistingDatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db",
		"Stage":                     "prod",
		"AiStepMaxConcurrency":      "50",
		"AiStepReservedConcurrency": "60",
		"McpServers":                `{"desk": {"urls": ["https://desk.example.com/mcp"]}}`,
	})
	var ids []string
	for _, f := range s.Functions {
		ids = append(ids, f.LogicalID)
		require.Equal(t, "db.example.internal", f.Environment["AIFLOW_DATABASE_HOST"], f.LogicalID)
	}
	require.Equal(t, []string{"AiStepFunction", "ApiFunction", "HealthCheckFunction", "McpServerFunction", "McpStepFunction", "MigrateFunction", "RecorderFunction", "ServiceStepFunction"}, ids)
	require.False(t, s.Conditions["SeedsSupportData"], "prod seeds nothing")
	migrate, _ := s.Function("MigrateFunction")
	require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:db", migrate.Environment["AIFLOW_DATABASE_SECRET"], "the existing database's master secret")
	server, _ := s.Function("McpServerFunction")
	require.Equal(t, "functions/mcpserver", server.Folder)
	require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:support-token", server.Environment["AIFLOW_SUPPORT_TOKEN_SECRET_ARN"])
	ai, _ := s.Function("AiStepFunction")
	require.Equal(t, "arn:aws:secretsmanager:us-east-1:123456789012:secret:openai", ai.Environment["AIFLOW_OPENAI_KEY_SECRET"])
	require.Contains(t, ai.Environment["AIFLOW_ANTHROPIC_KEY_SECRET"], ":secret:aiflow/ai/anthropic-api-key-")
	require.Equal(t, `{"desk": {"urls": ["https://desk.example.com/mcp"]}}`, ai.Environment["AIFLOW_MCP_SERVERS"], "McpServers replaces the support server")
	require.Equal(t, 50, ai.SQSEvents[0].MaximumConcurrency)
	require.Equal(t, 60, ai.ReservedConcurrency)
	require.Equal(t, []FunctionURL{{
		LogicalID: "McpServerUrl", Function: "McpServerFunction", AuthType: "NONE", InvokeMode: "BUFFERED",
		URL: s.Outputs["McpServerUrl"].(string),
	}}, s.FunctionURLs)
	for _, id := range []string{"DatabaseCluster", "DatabaseSecret", "DatabaseInstance"} {
		require.Contains(t, s.Omitted, id)
	}
	var secrets []string
	for _, sec := range s.Secrets {
		secrets = append(secrets, sec.LogicalID)
	}
	require.Equal(t, []string{"AnthropicApiKeySecret", "ApiDatabaseSecret", "EngineDatabaseSecret", "RegistryDatabaseSecret", "SupportDatabaseSecret", "WorkerDatabaseSecret"}, secrets,
		"the roles' secrets and the secrets no parameter names, not the master's")
	require.Equal(t, "db.example.internal", s.Outputs["DatabaseEndpoint"])
}

func TestRepositoryTemplateWithTheDatabaseProxyScriptedModelsAndNoSupportServer(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, map[string]string{"EnableDatabaseProxy": "true", "DeploySupportServer": "false",
		"AiProviders": "scripted", "AiDefaultProvider": "scripted", "AiScript": "/srv/aiflow/scripted.yaml"})
	require.True(t, s.Conditions["UseDatabaseProxy"])
	require.Regexp(t, `^aiflow-db\.proxy-[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com$`, s.Outputs["DatabaseEndpoint"])
	require.Contains(t, s.Omitted, "McpServerFunction")
	require.Contains(t, s.Omitted, "SupportTokenSecret")
	ai, _ := s.Function("AiStepFunction")
	require.Empty(t, ai.Environment["AIFLOW_MCP_SERVERS"], "no server without the support server")
	require.Equal(t, "scripted", ai.Environment["AIFLOW_AI_PROVIDERS"])
	require.Equal(t, "/srv/aiflow/scripted.yaml", ai.Environment["AIFLOW_AI_SCRIPT"])
}

func TestRepositoryTemplateQueuesAndMappings(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	type mapping struct {
		function, queue, dlq string
		maxReceive, batch    int
		concurrency          int
		visibility           time.Duration
	}
	for _, m := range []mapping{
		{"AiStepFunction", "AiStepQueue", "AiStepDeadLetterQueue", 3, 5, 10, 1800 * time.Second},
		{"McpStepFunction", "McpStepQueue", "McpStepDeadLetterQueue", 3, 10, 10, 720 * time.Second},
		{"ApiFunction", "ApprovalQueue", "ApprovalDeadLetterQueue", 5, 10, 2, 300 * time.Second},
	} {
		f, ok := s.Function(m.function)
		require.True(t, ok)
		require.Len(t, f.SQSEvents, 1, m.function)
		e := f.SQSEvents[0]
		q, ok := s.Queue(m.queue)
		require.True(t, ok)
		require.Equal(t, m.queue, e.Queue, m.function)
		require.Equal(t, q.ARN, e.QueueARN)
		require.Equal(t, m.batch, e.BatchSize, m.function)
		require.Zero(t, e.MaximumBatchingWindow, "a step waits for no batch: %s", m.function)
		require.Equal(t, m.concurrency, e.MaximumConcurrency, m.function)
		require.True(t, e.ReportBatchItemFailures, m.function)
		require.True(t, e.Enabled)
		require.Equal(t, m.visibility, q.VisibilityTimeout, m.queue)
		require.GreaterOrEqual(t, q.VisibilityTimeout, 6*f.Timeout, "Lambda wants a visibility timeout of six times the function's timeout")
		require.NotNil(t, q.DeadLetter, m.queue)
		require.Equal(t, m.dlq, q.DeadLetter.Queue)
		require.Equal(t, m.maxReceive, q.DeadLetter.MaxReceiveCount)
		dlq, ok := s.Queue(m.dlq)
		require.True(t, ok)
		require.Equal(t, dlq.ARN, q.DeadLetter.ARN)
		require.Equal(t, 14*24*time.Hour, dlq.MessageRetention)
		require.Nil(t, dlq.DeadLetter)
	}
	sq, _ := s.Queue("ServiceStepQueue")
	require.Equal(t, "ServiceStepDeadLetterQueue", sq.DeadLetter.Queue)
	require.Len(t, s.Queues, 9)
}

func TestRepositoryTemplateStateMachines(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	var names []string
	// The compiler's substitutions are exactly the template's.
	want := map[string]string{}
	for _, sub := range workflow.QueueSubstitutions {
		key := strings.TrimSuffix(strings.TrimPrefix(sub, "${"), "}")
		want[key] = ""
	}
	queueOf := map[string]string{
		"AiStepQueueUrl": "AiStepQueue", "McpStepQueueUrl": "McpStepQueue",
		"ServiceStepQueueUrl": "ServiceStepQueue", "ApprovalQueueUrl": "ApprovalQueue",
	}
	require.Len(t, want, len(queueOf))
	for k, id := range queueOf {
		require.Contains(t, want, k)
		q, _ := s.Queue(id)
		want[k] = q.URL
	}
	root := os.DirFS("../..")
	for _, sm := range s.StateMachines {
		names = append(names, sm.Name)
		require.Equal(t, "STANDARD", sm.Type)
		require.Equal(t, want, sm.DefinitionSubstitutions, sm.LogicalID)
		require.Equal(t, "arn:aws:iam::123456789012:role/aiflow-StateMachineRole", sm.RoleARN)
		require.Equal(t, "arn:aws:states:us-east-1:123456789012:stateMachine:"+sm.Name, sm.ARN)
		def, err := sm.DefinitionString(root)
		require.NoError(t, err)
		for _, sub := range workflow.QueueSubstitutions {
			require.NotContains(t, def, sub, sm.LogicalID)
		}
		require.True(t, json.Valid([]byte(def)), sm.LogicalID)
		require.Contains(t, def, "https://sqs.us-east-1.amazonaws.com/123456789012/aiflow-", sm.LogicalID)
		require.Equal(t, map[string]any{
			"Level": "ERROR", "IncludeExecutionData": false,
			"Destinations": []any{map[string]any{"CloudWatchLogsLogGroup": map[string]any{
				"LogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/vendedlogs/states/aiflow:*",
			}}},
		}, sm.Logging, sm.LogicalID)
		require.True(t, sm.Tracing, sm.LogicalID)
	}
	// The API's workflows are aiflow-wf-NAME: no name of theirs is an example's.
	require.ElementsMatch(t, []string{"aiflow-example-document-summary", "aiflow-example-incident-enrichment", "aiflow-example-research-agent", "aiflow-example-support-triage"}, names)

	s = loadRepo(t, map[string]string{"DeployExamples": "false"})
	require.Empty(t, s.StateMachines)
}

func TestRepositoryTemplateHTTPAPIRuleSecretAndNotRunHere(t *testing.T) {
	t.Parallel()
	s := loadRepo(t, nil)
	require.Len(t, s.HTTPAPIs, 1)
	a := s.HTTPAPIs[0]
	require.Equal(t, "HttpApi", a.LogicalID)
	require.Equal(t, "https://"+a.ID+".execute-api.us-east-1.amazonaws.com", a.Endpoint)
	require.Equal(t, "JwtAuthorizer", a.DefaultAuthorizer)
	require.Equal(t, map[string]JWTAuthorizer{"JwtAuthorizer": {
		IdentitySource: "$request.header.Authorization",
		Issuer:         "https://issuer.example",
		Audience:       []string{"aiflow", "console"},
	}}, a.Authorizers)
	require.Nil(t, a.CORS)
	require.Equal(t, 500.0, a.ThrottlingRateLimit)
	require.Equal(t, 1000, a.ThrottlingBurstLimit)
	type route struct{ method, path, authorizer string }
	var routes []route
	for _, r := range a.Routes {
		require.Equal(t, "ApiFunction", r.Function)
		require.Equal(t, "2.0", r.PayloadFormatVersion)
		routes = append(routes, route{r.Method, r.Path, r.Authorizer})
	}
	require.ElementsMatch(t, []route{
		{"ANY", "/{proxy+}", "JwtAuthorizer"},
		{"GET", "/healthz", ""},
		{"GET", "/readyz", ""},
		{"GET", "/openapi.json", ""},
	}, routes)
	require.Equal(t, "https://"+a.ID+".execute-api.us-east-1.amazonaws.com", s.Outputs["ApiUrl"])

	require.Len(t, s.Rules, 3)
	for i, want := range []struct{ rule, function, what string }{
		{"ApiFunctionResumeDecisions", "ApiFunction", "the approval decisions' schedule"},
		{"HealthCheckFunctionChecks", "HealthCheckFunction", "the health checker's schedule"},
	} {
		schedule := s.Rules[i+1]
		require.Equal(t, want.rule, schedule.LogicalID, want.what)
		require.Equal(t, "rate(1 minute)", schedule.ScheduleExpression)
		require.Equal(t, want.function, schedule.Targets[0].Function)
		require.Zero(t, schedule.Targets[0].MaximumRetryAttempts, "a missed round is not retried: the next one comes")
	}
	r := s.Rules[0]
	require.Equal(t, "ExecutionStatusChangeRule", r.LogicalID)
	require.True(t, r.Enabled)
	require.Equal(t, "default", r.EventBusName)
	require.Equal(t, map[string]any{
		"source":      []any{"aws.states"},
		"detail-type": []any{"Step Functions Execution Status Change"},
		"detail": map[string]any{"stateMachineArn": []any{
			map[string]any{"prefix": "arn:aws:states:us-east-1:123456789012:stateMachine:aiflow-"},
		}},
	}, r.EventPattern)
	require.Len(t, r.Targets, 1)
	tg := r.Targets[0]
	require.Equal(t, "RecorderFunction", tg.Function)
	require.Equal(t, "RecorderDeadLetterQueue", tg.DeadLetterQueue)
	require.Equal(t, 20, tg.MaximumRetryAttempts)
	require.Equal(t, 24*time.Hour, tg.MaximumEventAge)

	users := map[string]string{}
	for _, sec := range s.Secrets {
		if sec.LogicalID == "OpenAIApiKeySecret" || sec.LogicalID == "AnthropicApiKeySecret" || sec.LogicalID == "SupportTokenSecret" {
			continue
		}
		require.NotNil(t, sec.Generate, sec.LogicalID)
		require.Equal(t, "password", sec.Generate.GenerateStringKey, sec.LogicalID)
		require.Equal(t, 32, sec.Generate.PasswordLength, sec.LogicalID)
		require.True(t, sec.Generate.ExcludePunctuation, sec.LogicalID)
		users[sec.LogicalID] = sec.Generate.SecretStringTemplate
	}
	require.Equal(t, map[string]string{
		"DatabaseSecret":         `{"username": "aiflow_admin"}`,
		"ApiDatabaseSecret":      `{"username": "aiflow_api"}`,
		"EngineDatabaseSecret":   `{"username": "aiflow_engine"}`,
		"SupportDatabaseSecret":  `{"username": "aiflow_support"}`,
		"WorkerDatabaseSecret":   `{"username": "aiflow_worker"}`,
		"RegistryDatabaseSecret": `{"username": "aiflow_registry"}`,
	}, users)
	var secretIDs []string
	for _, sc := range s.Secrets {
		secretIDs = append(secretIDs, sc.LogicalID)
	}
	require.ElementsMatch(t, []string{"DatabaseSecret", "ApiDatabaseSecret", "EngineDatabaseSecret", "SupportDatabaseSecret", "WorkerDatabaseSecret",
		"RegistryDatabaseSecret", "OpenAIApiKeySecret", "AnthropicApiKeySecret", "SupportTokenSecret"}, secretIDs)

	notRun := map[string]string{}
	for _, n := range s.NotRunHere {
		notRun[n.LogicalID] = n.Type
	}
	for id, typ := range map[string]string{
		"FunctionSecurityGroup": "AWS::EC2::SecurityGroup", "DatabaseCluster": "AWS::RDS::DBCluster",
		"DatabaseInstance": "AWS::RDS::DBInstance", "StateMachineRole": "AWS::IAM::Role",
		"ApiLogGroup": "AWS::Logs::LogGroup", "RecorderInvokePermission": "AWS::Lambda::Permission",
		"RecorderDeadLetterQueuePolicy": "AWS::SQS::QueuePolicy", "DatabaseSecretAttachment": "AWS::SecretsManager::SecretTargetAttachment",
		"AiStepDeadLetterQueueAlarm": "AWS::CloudWatch::Alarm", "ApiFunctionErrorsAlarm": "AWS::CloudWatch::Alarm",
		"SupportTriageStateMachineFailedAlarm": "AWS::CloudWatch::Alarm", "StateMachineLogGroup": "AWS::Logs::LogGroup",
	} {
		require.Equal(t, typ, notRun[id], id)
	}
	for _, id := range []string{"ApiFunction", "AiStepQueue", "HttpApi", "ExecutionStatusChangeRule", "DatabaseSecret", "SupportTriageStateMachine"} {
		require.NotContains(t, notRun, id)
	}
}
