package samtemplate_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/samtemplate"
	"github.com/aiflow/aiflow/internal/workflow"
)

const root = "../.."

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tmpl, err := samtemplate.ParseFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	return tmpl
}

// makefileFunctions reads FUNCTIONS of the Makefile: logical id to the
// folder under functions/.
func makefileFunctions(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^FUNCTIONS\s*:?=\s*(.*)$`).FindSubmatch(raw)
	require.NotNil(t, m, "the Makefile has no FUNCTIONS")
	out := map[string]string{}
	for pair := range strings.FieldsSeq(string(m[1])) {
		id, dir, ok := strings.Cut(pair, ":")
		require.True(t, ok, "FUNCTIONS entry %q is not LogicalId:folder", pair)
		out[id] = dir
	}
	return out
}

func mapOf(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	require.True(t, ok, "%s is not a mapping: %#v", what, v)
	return m
}

// ref returns the name of a {"Ref": name} value, or "".
func ref(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["Ref"].(string)
	return s
}

// getAtt returns the resource and attribute of a {"Fn::GetAtt": [r, a]}.
func getAtt(v any) (string, string) {
	m, _ := v.(map[string]any)
	l := samtemplate.Strings(m["Fn::GetAtt"])
	if len(l) != 2 {
		return "", ""
	}
	return l[0], l[1]
}

func number(t *testing.T, v any, what string) int {
	t.Helper()
	switch n := v.(type) {
	case int:
		return n
	case float64:
		return int(n)
	}
	require.Failf(t, "not a number", "%s is %#v", what, v)
	return 0
}

func TestParseShortForms(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  Name: {Type: String}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      A: !Ref Name
      B: !GetAtt Other.Arn
      C: !Sub "x-${Name}-${Other.Arn}-${!Literal}-${AWS::Region}"
      D: !Sub ["${Local}", {Local: !Ref Name}]
      E: !If [Cond, !Join [",", [a, b]], !Ref AWS::NoValue]
      F: !GetAtt [Other, Endpoint.Address]
`))
	require.NoError(t, err)
	p := tmpl.Resources["Q"].Properties
	require.Equal(t, map[string]any{"Ref": "Name"}, p["A"])
	require.Equal(t, map[string]any{"Fn::GetAtt": []any{"Other", "Arn"}}, p["B"])
	require.Equal(t, map[string]any{"Fn::GetAtt": []any{"Other", "Endpoint.Address"}}, p["F"])
	require.Equal(t, []string{"Name", "Other.Arn", "AWS::Region"}, samtemplate.SubVariables(p["C"].(map[string]any)["Fn::Sub"].(string)))
	var names []string
	for _, r := range tmpl.References() {
		if !r.Local {
			names = append(names, r.Kind+" "+r.Name)
		}
	}
	slices.Sort(names)
	require.Equal(t, []string{
		"Condition Cond", "Fn::GetAtt Other", "Fn::GetAtt Other", "Fn::Sub AWS::Region", "Fn::Sub Name", "Fn::Sub Other",
		"Ref AWS::NoValue", "Ref Name", "Ref Name",
	}, names)

	_, err = samtemplate.Parse([]byte("Resources:\n  X:\n    Type: T\n    Properties:\n      A: !Frobnicate x\n"))
	require.ErrorContains(t, err, "unknown tag !Frobnicate")
}

func TestEveryFunctionHasItsFolderAndMakefileTarget(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	functions := makefileFunctions(t)
	inTemplate := tmpl.ResourcesOfType("AWS::Serverless::Function")
	require.NotEmpty(t, inTemplate)
	for _, id := range inTemplate {
		r := tmpl.Resources[id]
		require.Equal(t, "makefile", r.Metadata["BuildMethod"], "%s: Metadata.BuildMethod", id)
		dir, ok := functions[id]
		require.True(t, ok, "%s is not in FUNCTIONS of the Makefile, so it has no build-%s target", id, id)
		_, err := os.Stat(filepath.Join(root, "functions", dir, "main.go"))
		require.NoError(t, err, "%s: functions/%s/main.go", id, dir)
	}
	folders, err := os.ReadDir(filepath.Join(root, "functions"))
	require.NoError(t, err)
	for _, f := range folders {
		if !f.IsDir() {
			continue
		}
		id := ""
		for logical, dir := range functions {
			if dir == f.Name() {
				id = logical
			}
		}
		require.NotEmpty(t, id, "functions/%s is not in FUNCTIONS of the Makefile", f.Name())
		require.Contains(t, inTemplate, id, "functions/%s (%s) has no function in template.yaml", f.Name(), id)
		samples, err := filepath.Glob(filepath.Join(root, "events", f.Name()+"-*.json"))
		require.NoError(t, err)
		require.NotEmpty(t, samples, "events/ has no sample event for functions/%s (events/%s-*.json)", f.Name(), f.Name())
		for _, sample := range samples {
			raw, err := os.ReadFile(sample)
			require.NoError(t, err)
			require.True(t, json.Valid(raw), "%s is not valid JSON", sample)
		}
	}

	// The targets SAM runs exist (a dry run prints their commands).
	mk, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed; the targets were checked through FUNCTIONS only")
	}
	for _, id := range inTemplate {
		out, err := exec.Command(mk, "-n", "-C", root, "build-"+id, "ARTIFACTS_DIR=.aws-sam/build/"+id).CombinedOutput()
		require.NoError(t, err, "make -n build-%s: %s", id, out)
		require.Contains(t, string(out), "./functions/"+functions[id])
	}
}

func TestEveryFunctionIsConfiguredAlike(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	globals := mapOf(t, tmpl.Globals["Function"], "Globals.Function")
	require.Equal(t, "provided.al2023", globals["Runtime"])
	require.Equal(t, []any{"arm64"}, globals["Architectures"])
	require.Equal(t, "Active", globals["Tracing"])
	for _, id := range tmpl.ResourcesOfType("AWS::Serverless::Function") {
		p := tmpl.Resources[id].Properties
		for _, k := range []string{"Runtime", "Architectures", "Tracing"} {
			require.NotContains(t, p, k, "%s overrides %s of Globals", id, k)
		}
		require.NotContains(t, p, "Policies", "%s: give it a role of its own, not SAM policies", id)
		roleID, attr := getAtt(p["Role"])
		require.Equal(t, "Arn", attr, "%s: Role is !GetAtt <its role>.Arn", id)
		require.Equal(t, "AWS::IAM::Role", tmpl.Resources[roleID].Type, "%s: Role", id)
		for _, other := range tmpl.ResourcesOfType("AWS::Serverless::Function") {
			if other != id {
				r, _ := getAtt(tmpl.Resources[other].Properties["Role"])
				require.NotEqual(t, roleID, r, "%s and %s share a role", id, other)
			}
		}
		logging := mapOf(t, p["LoggingConfig"], id+".LoggingConfig")
		group := ref(logging["LogGroup"])
		require.Equal(t, "AWS::Logs::LogGroup", tmpl.Resources[group].Type, "%s: LoggingConfig.LogGroup", id)
		require.Contains(t, tmpl.Resources[group].Properties, "RetentionInDays", "%s: its log group keeps logs forever", id)
	}
	for _, id := range tmpl.ResourcesOfType("AWS::Logs::LogGroup") {
		require.Contains(t, tmpl.Resources[id].Properties, "RetentionInDays", "log group %s keeps logs forever", id)
	}
}

// deadLetterQueues returns the queues some queue's RedrivePolicy or an
// EventBridge target sends failures to.
func deadLetterQueues(t *testing.T, tmpl *samtemplate.Template) map[string]bool {
	t.Helper()
	dlqs := map[string]bool{}
	for _, id := range tmpl.ResourcesOfType("AWS::SQS::Queue") {
		if rp, ok := tmpl.Resources[id].Properties["RedrivePolicy"]; ok {
			q, _ := getAtt(mapOf(t, rp, id+".RedrivePolicy")["deadLetterTargetArn"])
			dlqs[q] = true
		}
	}
	for _, id := range tmpl.ResourcesOfType("AWS::Events::Rule") {
		for _, target := range tmpl.Resources[id].Properties["Targets"].([]any) {
			if dl, ok := mapOf(t, target, id+" target")["DeadLetterConfig"]; ok {
				q, _ := getAtt(mapOf(t, dl, id+" DeadLetterConfig")["Arn"])
				dlqs[q] = true
			}
		}
	}
	return dlqs
}

func TestEveryQueueHasADeadLetterQueue(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	dlqs := deadLetterQueues(t, tmpl)
	for _, id := range tmpl.ResourcesOfType("AWS::SQS::Queue") {
		p := tmpl.Resources[id].Properties
		require.Equal(t, true, p["SqsManagedSseEnabled"], "%s is not encrypted", id)
		if dlqs[id] {
			require.NotContains(t, p, "RedrivePolicy", "dead-letter queue %s redrives further", id)
			require.Equal(t, 1209600, number(t, p["MessageRetentionPeriod"], id+".MessageRetentionPeriod"), "dead-letter queue %s keeps messages 14 days", id)
			continue
		}
		rp := mapOf(t, p["RedrivePolicy"], id+".RedrivePolicy")
		dlq, attr := getAtt(rp["deadLetterTargetArn"])
		require.Equal(t, "Arn", attr)
		require.Equal(t, "AWS::SQS::Queue", tmpl.Resources[dlq].Type, "%s: deadLetterTargetArn", id)
		require.Positive(t, number(t, rp["maxReceiveCount"], id+".maxReceiveCount"))
	}
	require.Len(t, dlqs, 5, "one dead-letter queue per step kind and the recorder's")
}

func TestStepQueuesAreTheCompilersSubstitutions(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	want := map[string]bool{}
	for _, s := range []string{workflow.AIQueueSubstitution, workflow.MCPQueueSubstitution, workflow.ServiceQueueSubstitution, workflow.ApprovalQueueSubstitution} {
		want[strings.TrimSuffix(strings.TrimPrefix(s, "${"), "}")] = true
	}
	machines := tmpl.ResourcesOfType("AWS::Serverless::StateMachine")
	require.NotEmpty(t, machines)
	var stepQueues []string
	for _, id := range machines {
		p := tmpl.Resources[id].Properties
		subs := mapOf(t, p["DefinitionSubstitutions"], id+".DefinitionSubstitutions")
		require.ElementsMatch(t, slices.Collect(maps.Keys(want)), slices.Collect(maps.Keys(subs)), "%s: DefinitionSubstitutions", id)
		queues := []string{}
		for key, v := range subs {
			q := ref(v)
			require.Equal(t, "AWS::SQS::Queue", tmpl.Resources[q].Type, "%s: %s is !Ref of a queue", id, key)
			queues = append(queues, q)
		}
		slices.Sort(queues)
		if stepQueues == nil {
			stepQueues = queues
		}
		require.Equal(t, stepQueues, queues, "%s sends to other queues", id)

		// Every placeholder of the definition has a substitution.
		uri, ok := p["DefinitionUri"].(string)
		require.True(t, ok, "%s: DefinitionUri is a file of statemachines/", id)
		def, err := os.ReadFile(filepath.Join(root, uri))
		require.NoError(t, err)
		for _, name := range samtemplate.SubVariables(string(def)) {
			require.Contains(t, subs, name, "%s: %s uses ${%s}, which DefinitionSubstitutions lacks", id, uri, name)
		}
		role, _ := getAtt(p["Role"])
		require.Equal(t, "StateMachineRole", role, "%s: Role", id)
	}
	files, err := filepath.Glob(filepath.Join(root, "statemachines", "*.asl.json"))
	require.NoError(t, err)
	require.Len(t, machines, len(files), "every compiled example is a state machine of the template")

	// The state machines' role may only send messages to those queues, and
	// log and trace (actions that take Resource "*" only).
	role := tmpl.Resources["StateMachineRole"].Properties
	var actions, resources []string
	for _, st := range statements(t, "StateMachineRole", role) {
		require.Equal(t, "Allow", st["Effect"])
		if st["Resource"] == "*" {
			for _, a := range samtemplate.Strings(st["Action"]) {
				require.True(t, strings.HasPrefix(a, "logs:") || strings.HasPrefix(a, "xray:"), "StateMachineRole may %s", a)
				require.Contains(t, wildcardResourceActions, a)
			}
			continue
		}
		actions = append(actions, samtemplate.Strings(st["Action"])...)
		for _, r := range st["Resource"].([]any) {
			q, attr := getAtt(r)
			require.Equal(t, "Arn", attr)
			resources = append(resources, q)
		}
	}
	slices.Sort(resources)
	require.Equal(t, []string{"sqs:SendMessage"}, slices.Compact(actions))
	require.Equal(t, stepQueues, resources)
}

func TestWorkersDrainTheirQueues(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	globalTimeout := number(t, mapOf(t, tmpl.Globals["Function"], "Globals.Function")["Timeout"], "Globals.Function.Timeout")
	consumed := map[string]string{}
	for _, id := range tmpl.ResourcesOfType("AWS::Serverless::Function") {
		p := tmpl.Resources[id].Properties
		timeout := globalTimeout
		if v, ok := p["Timeout"]; ok {
			timeout = number(t, v, id+".Timeout")
		}
		evs, _ := p["Events"].(map[string]any)
		for name, raw := range evs {
			ev := mapOf(t, raw, id+".Events."+name)
			if ev["Type"] != "SQS" {
				continue
			}
			props := mapOf(t, ev["Properties"], id+".Events."+name+".Properties")
			q, _ := getAtt(props["Queue"])
			require.Equal(t, "AWS::SQS::Queue", tmpl.Resources[q].Type, "%s.Events.%s.Queue", id, name)
			consumed[q] = id
			vt := number(t, tmpl.Resources[q].Properties["VisibilityTimeout"], q+".VisibilityTimeout")
			require.GreaterOrEqual(t, vt, 6*timeout, "%s: VisibilityTimeout %d is less than six times %s's Timeout %d", q, vt, id, timeout)
			require.Equal(t, []string{"ReportBatchItemFailures"}, samtemplate.Strings(props["FunctionResponseTypes"]), "%s.Events.%s", id, name)
			scaling := mapOf(t, props["ScalingConfig"], id+".Events."+name+".ScalingConfig")
			require.Contains(t, scaling, "MaximumConcurrency", "%s.Events.%s", id, name)
		}
	}
	require.Equal(t, "AiStepFunction", consumed["AiStepQueue"])
	require.Equal(t, "McpStepFunction", consumed["McpStepQueue"])
	require.Equal(t, "ApiFunction", consumed["ApprovalQueue"])
}

// statements returns the IAM statements of a resource's policies.
func statements(t *testing.T, id string, props map[string]any) []map[string]any {
	t.Helper()
	var docs []any
	if pol, ok := props["Policies"].([]any); ok {
		for _, p := range pol {
			docs = append(docs, mapOf(t, p, id+".Policies[]")["PolicyDocument"])
		}
	}
	if d, ok := props["PolicyDocument"]; ok {
		docs = append(docs, d)
	}
	var out []map[string]any
	for _, d := range docs {
		for _, st := range mapOf(t, d, id+" policy document")["Statement"].([]any) {
			out = append(out, mapOf(t, st, id+" statement"))
		}
	}
	return out
}

// wildcardResourceActions are the actions AWS requires Resource "*" for,
// each with the reason.
var wildcardResourceActions = map[string]string{
	"xray:PutTraceSegments":    "X-Ray has no resource-level permissions",
	"xray:PutTelemetryRecords": "X-Ray has no resource-level permissions",
	"xray:GetSamplingRules":    "X-Ray has no resource-level permissions",
	"xray:GetSamplingTargets":  "X-Ray has no resource-level permissions",
	// A state machine that logs to CloudWatch Logs uses its log delivery,
	// which takes no resource-level permissions (its caller and its role
	// both need them).
	"logs:CreateLogDelivery":        "CloudWatch Logs' log delivery",
	"logs:GetLogDelivery":           "CloudWatch Logs' log delivery",
	"logs:UpdateLogDelivery":        "CloudWatch Logs' log delivery",
	"logs:DeleteLogDelivery":        "CloudWatch Logs' log delivery",
	"logs:ListLogDeliveries":        "CloudWatch Logs' log delivery",
	"logs:PutResourcePolicy":        "CloudWatch Logs' log delivery",
	"logs:DescribeResourcePolicies": "CloudWatch Logs' log delivery",
	"logs:DescribeLogGroups":        "CloudWatch Logs' log delivery; Describe actions have no resource-level permissions",
	// Lambda's own VPC policy (AWSLambdaVPCAccessExecutionRole) grants these
	// on "*": the interfaces do not exist before Lambda makes them.
	"ec2:CreateNetworkInterface":            "Lambda in a VPC",
	"ec2:DescribeNetworkInterfaces":         "Lambda in a VPC; Describe actions have no resource-level permissions",
	"ec2:DeleteNetworkInterface":            "Lambda in a VPC",
	"ec2:AssignPrivateIpAddresses":          "Lambda in a VPC",
	"ec2:UnassignPrivateIpAddresses":        "Lambda in a VPC",
	"states:SendTaskSuccess":                "a task token names no resource IAM can match",
	"states:SendTaskFailure":                "a task token names no resource IAM can match",
	"states:SendTaskHeartbeat":              "a task token names no resource IAM can match",
	"states:ListStateMachines":              "List actions have no resource-level permissions",
	"states:ValidateStateMachineDefinition": "validates a definition, not a resource",
}

func TestNoIAMStatementHasAWildcardAWSDoesNotRequire(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	checked := 0
	for id, r := range tmpl.Resources {
		switch r.Type {
		case "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy":
		default:
			continue
		}
		for i, st := range statements(t, id, r.Properties) {
			where := fmt.Sprintf("%s statement %d", id, i)
			require.NotContains(t, st, "NotAction", where)
			require.NotContains(t, st, "NotResource", where)
			actions := samtemplate.Strings(st["Action"])
			require.NotEmpty(t, actions, where)
			for _, a := range actions {
				require.NotContains(t, a, "*", "%s: Action %s", where, a)
			}
			resources := st["Resource"]
			if list, ok := resources.([]any); ok {
				require.NotEmpty(t, list, where)
			} else {
				resources = []any{resources}
			}
			for _, res := range resources.([]any) {
				s, isString := res.(string)
				if !isString || s != "*" {
					require.NotNil(t, res, where)
					continue
				}
				for _, a := range actions {
					_, ok := wildcardResourceActions[a]
					require.True(t, ok, `%s: Resource "*" for %s, which AWS lets a policy scope`, where, a)
				}
			}
			checked++
		}
	}
	require.Greater(t, checked, 10)
}

func TestEveryReferenceResolves(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	refs := tmpl.References()
	require.NotEmpty(t, refs)
	for _, r := range refs {
		switch {
		case r.Kind == "Condition":
			require.Contains(t, tmpl.Conditions, r.Name, "%s: no condition %s", r.Path, r.Name)
		case r.Kind == "Fn::GetAtt":
			_, ok := tmpl.Resources[r.Name]
			require.True(t, ok, "%s: no resource %s", r.Path, r.Name)
		case r.Local:
		default:
			require.True(t, tmpl.Defines(r.Name), "%s: %s %s is no parameter, resource or pseudo parameter", r.Path, r.Kind, r.Name)
		}
	}
	// Resources that exist only with a condition are used only under it.
	for _, r := range refs {
		res, ok := tmpl.Resources[r.Name]
		if !ok || res.Condition == "" || r.Kind == "Condition" {
			continue
		}
		user := strings.Split(r.Path, "/")
		if user[0] == "Resources" && implies(tmpl, tmpl.Resources[user[1]].Condition, res.Condition) {
			continue
		}
		if user[0] == "Outputs" {
			if out, ok := tmpl.Outputs[user[1]].(map[string]any); ok {
				if c, _ := out["Condition"].(string); implies(tmpl, c, res.Condition) {
					continue
				}
			}
		}
		require.Contains(t, r.Path, "Fn::If", "%s uses %s, which exists only when %s, outside an !If", r.Path, r.Name, res.Condition)
	}
}

// implies reports whether condition c holds only when target does: it is
// target, or an Fn::And with a condition that implies target.
func implies(tmpl *samtemplate.Template, c, target string) bool {
	if c == "" {
		return false
	}
	if c == target {
		return true
	}
	def, _ := tmpl.Conditions[c].(map[string]any)
	terms, _ := def["Fn::And"].([]any)
	for _, term := range terms {
		if m, ok := term.(map[string]any); ok {
			if name, ok := m["Condition"].(string); ok && implies(tmpl, name, target) {
				return true
			}
		}
	}
	return false
}

func TestTheAPIIsBehindTheJWTAuthorizer(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	api := tmpl.Resources["HttpApi"].Properties
	auth := mapOf(t, api["Auth"], "HttpApi.Auth")
	require.Equal(t, "JwtAuthorizer", auth["DefaultAuthorizer"])
	jwt := mapOf(t, mapOf(t, auth["Authorizers"], "Authorizers")["JwtAuthorizer"], "JwtAuthorizer")
	cfg := mapOf(t, jwt["JwtConfiguration"], "JwtConfiguration")
	require.Equal(t, "JwtIssuer", ref(cfg["issuer"]))
	require.Equal(t, "JwtAudience", ref(cfg["audience"]))
	routes := mapOf(t, api["DefaultRouteSettings"], "DefaultRouteSettings")
	require.Contains(t, routes, "ThrottlingRateLimit")
	require.Contains(t, routes, "ThrottlingBurstLimit")

	public := map[string]bool{"/healthz": true, "/readyz": true, "/openapi.json": true}
	for name, raw := range mapOf(t, tmpl.Resources["ApiFunction"].Properties["Events"], "ApiFunction.Events") {
		if mapOf(t, raw, name)["Type"] != "HttpApi" {
			continue
		}
		props := mapOf(t, mapOf(t, raw, name)["Properties"], name+".Properties")
		path := props["Path"].(string)
		a, open := props["Auth"].(map[string]any)
		if public[path] {
			require.True(t, open, "%s needs no token", path)
			require.Equal(t, "NONE", a["Authorizer"], path)
		} else {
			require.False(t, open, "%s keeps the default JWT authorizer", path)
		}
	}
}

// TestSamconfigNeedsOnlyWhatAUserMustGive: no environment of samconfig.toml
// sets a parameter only its user knows (those without a Default, which
// `sam deploy --guided` asks for), every parameter it sets is one of the
// template's, and every build runs make in the source folder, so that sam
// build copies neither .aiflow/ nor build/.
func TestSamconfigNeedsOnlyWhatAUserMustGive(t *testing.T) {
	t.Parallel()
	tmpl := load(t)
	var cfg map[string]any
	_, err := toml.DecodeFile(filepath.Join(root, "samconfig.toml"), &cfg)
	require.NoError(t, err)
	require.Equal(t, 0.1, cfg["version"])
	require.Contains(t, cfg, "default")
	params := func(env map[string]any, cmd string) map[string]any {
		c, _ := env[cmd].(map[string]any)
		p, _ := c["parameters"].(map[string]any)
		return p
	}
	for env, v := range cfg {
		cmds, ok := v.(map[string]any)
		if !ok {
			continue // version
		}
		require.Equal(t, true, params(cmds, "build")["build_in_source"], "%s: build.parameters.build_in_source", env)
		deploy := params(cmds, "deploy")
		require.Equal(t, "CAPABILITY_IAM", deploy["capabilities"], env)
		overrides, _ := deploy["parameter_overrides"].(string)
		if env == "default" {
			require.Empty(t, overrides, "[default] takes every parameter from the template or from --guided")
		}
		for kv := range strings.FieldsSeq(strings.ReplaceAll(overrides, "\\\n", " ")) {
			name, _, ok := strings.Cut(kv, "=")
			require.True(t, ok, "%s: %q is not Name=Value", env, kv)
			p, ok := tmpl.Parameters[name].(map[string]any)
			require.True(t, ok, "%s: %s is not a parameter of template.yaml", env, name)
			require.Contains(t, p, "Default", "%s sets %s, which only its user can give (sam deploy --guided asks for it)", env, name)
		}
	}
}
