package stackmodel

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/samtemplate"
)

const fixture = `
Parameters:
  Name: {Type: String, Default: world}
  List: {Type: CommaDelimitedList, Default: "a,b,c"}
  Num: {Type: Number, Default: 5}
Conditions:
  Yes: !Equals [!Ref Name, world]
  No: !Not [!Condition Yes]
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub "${AWS::StackName}-q"
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/x
  Gone:
    Type: AWS::SQS::Queue
    Condition: No
  Secret:
    Type: AWS::SecretsManager::Secret
Outputs:
  X:
    Value: `

// evalExpr resolves expr (YAML, on one line) as the value of an output of
// the fixture.
func evalExpr(t *testing.T, expr string) (any, error) {
	t.Helper()
	tmpl, err := samtemplate.Parse([]byte(fixture + expr + "\n"))
	require.NoError(t, err)
	s, err := Resolve(Params{Template: tmpl})
	if err != nil {
		return nil, err
	}
	return s.Outputs["X"], nil
}

func TestIntrinsics(t *testing.T) {
	t.Parallel()
	queueURL := "https://sqs.us-east-1.amazonaws.com/123456789012/aiflow-q"
	queueARN := "arn:aws:sqs:us-east-1:123456789012:aiflow-q"
	cases := []struct {
		name, expr string
		want       any
		err        string
	}{
		{name: "Ref parameter", expr: `!Ref Name`, want: "world"},
		{name: "Ref list parameter", expr: `!Ref List`, want: []any{"a", "b", "c"}},
		{name: "Ref number parameter", expr: `!Ref Num`, want: "5"},
		{name: "Ref region", expr: `!Ref AWS::Region`, want: "us-east-1"},
		{name: "Ref account", expr: `!Ref AWS::AccountId`, want: "123456789012"},
		{name: "Ref stack name", expr: `!Ref AWS::StackName`, want: "aiflow"},
		{name: "Ref partition", expr: `!Ref AWS::Partition`, want: "aws"},
		{name: "Ref URL suffix", expr: `!Ref AWS::URLSuffix`, want: "amazonaws.com"},
		{name: "Ref queue is its URL", expr: `!Ref Q`, want: queueURL},
		{name: "Ref function is its name", expr: `!Ref Fn`, want: "aiflow-Fn"},
		{name: "Ref long form", expr: `{"Ref": "Name"}`, want: "world"},
		{name: "Ref unknown", expr: `!Ref Nope`, err: "Outputs.X.Value: Ref names Nope, which is neither a parameter, a pseudo parameter nor a resource"},
		{name: "Ref left out", expr: `!Ref Gone`, err: "Ref names Gone, which is left out: its Condition No is false"},
		{name: "Ref unknown pseudo", expr: `!Ref AWS::Nope`, err: "Ref names AWS::Nope, which is not a pseudo parameter"},
		{name: "Ref of a list", expr: `{"Ref": [Name]}`, err: "Ref takes a name, not a list of 1 values"},
		{name: "GetAtt short", expr: `!GetAtt Q.Arn`, want: queueARN},
		{name: "GetAtt long", expr: `{"Fn::GetAtt": [Q, QueueName]}`, want: "aiflow-q"},
		{name: "GetAtt QueueUrl", expr: `!GetAtt Q.QueueUrl`, want: queueURL},
		{name: "GetAtt attribute resolved", expr: `{"Fn::GetAtt": [Q, !Sub "Arn"]}`, want: queueARN},
		{name: "GetAtt function Arn", expr: `!GetAtt Fn.Arn`, want: "arn:aws:lambda:us-east-1:123456789012:function:aiflow-Fn"},
		{name: "GetAtt unknown attribute", expr: `!GetAtt Secret.Foo`, err: "Outputs.X.Value: Fn::GetAtt names Secret.Foo, which is not an attribute of AWS::SecretsManager::Secret"},
		{name: "GetAtt of a parameter", expr: `!GetAtt Name.Arn`, err: "Fn::GetAtt names Name.Arn, but Name is a parameter"},
		{name: "GetAtt unknown resource", expr: `!GetAtt Nope.Arn`, err: "Fn::GetAtt names Nope, which is not a resource"},
		{name: "GetAtt left out", expr: `!GetAtt Gone.Arn`, err: "Fn::GetAtt names Gone, which is left out"},
		{name: "GetAtt three values", expr: `{"Fn::GetAtt": [Q, Arn, x]}`, err: "Fn::GetAtt takes [resource, attribute], not 3 values"},
		{name: "Sub string", expr: `!Sub "${AWS::Region}-${Name}-${Q.QueueName}-${!Literal}-${Q}"`, want: "us-east-1-world-aiflow-q-${Literal}-" + queueURL},
		{name: "Sub with variables", expr: `!Sub ["${A}-${Name}-${B}", {A: !Ref Num, B: !GetAtt Q.Arn}]`, want: "5-world-" + queueARN},
		{name: "Sub variable shadows a parameter", expr: `!Sub ["${Name}", {Name: other}]`, want: "other"},
		{name: "Sub no variables", expr: `!Sub "plain $text {x}"`, want: "plain $text {x}"},
		{name: "Sub list parameter", expr: `!Sub "${List}"`, err: "Fn::Sub ${List}: List is a list of 3 values, not a string"},
		{name: "Sub unclosed", expr: `!Sub "${Name"`, err: "${ without a closing }"},
		{name: "Sub unknown", expr: `!Sub "${Nope}"`, err: "Fn::Sub ${Nope}: Ref names Nope"},
		{name: "Sub unknown attribute", expr: `!Sub "${Q.Nope}"`, err: "Fn::Sub ${Q.Nope}: Fn::GetAtt names Q.Nope, which is not an attribute of AWS::SQS::Queue"},
		{name: "Sub variables not a mapping", expr: `!Sub ["x", [a]]`, err: "Fn::Sub's second value is a mapping of variables"},
		{name: "Join list parameter", expr: `!Join [",", !Ref List]`, want: "a,b,c"},
		{name: "Join values", expr: `!Join ["-", [x, !Ref Name, 3]]`, want: "x-world-3"},
		{name: "Join empty", expr: `!Join ["-", []]`, want: ""},
		{name: "Join not a list", expr: `!Join ["-", x]`, err: "Fn::Join joins a list, not the string \"x\""},
		{name: "Join a mapping", expr: `!Join ["-", [{a: b}]]`, err: "Fn::Join joins strings, and value 0 is a mapping"},
		{name: "Select", expr: `!Select [1, !Ref List]`, want: "b"},
		{name: "Select string index", expr: `!Select ["2", [a, b, c]]`, want: "c"},
		{name: "Select out of range", expr: `!Select [3, !Ref List]`, err: "Fn::Select index 3 is out of the list's range (3 values)"},
		{name: "Select negative", expr: `!Select [-1, !Ref List]`, err: "out of the list's range"},
		{name: "Select bad index", expr: `!Select [x, !Ref List]`, err: "Fn::Select's index is an integer"},
		{name: "Split", expr: `!Split [",", "a,,b"]`, want: []any{"a", "", "b"}},
		{name: "Select of Split of GetAtt", expr: `!Select [5, !Split [":", !GetAtt Q.Arn]]`, want: "aiflow-q"},
		{name: "Split empty delimiter", expr: `!Split ["", "ab"]`, err: "Fn::Split's delimiter is a non-empty string"},
		{name: "If true", expr: `!If [Yes, a, b]`, want: "a"},
		{name: "If false", expr: `!If [No, a, b]`, want: "b"},
		{name: "If skips the other branch", expr: `!If [Yes, a, !Ref Gone]`, want: "a"},
		{name: "If unknown condition", expr: `!If [Maybe, a, b]`, err: "Fn::If: Maybe is not a condition"},
		{name: "If two values", expr: `!If [Yes, a]`, err: "Fn::If takes [condition, value if true, value if false]"},
		{name: "Base64", expr: `!Base64 hi`, want: "aGk="},
		{name: "GetAZs refused", expr: `!GetAZs ""`, err: "Fn::GetAZs cannot be resolved here"},
		{name: "ImportValue refused", expr: `!ImportValue shared`, err: "Fn::ImportValue cannot be resolved here"},
		{name: "FindInMap refused", expr: `!FindInMap [M, a, b]`, err: "Fn::FindInMap is not supported by the local stack"},
		{name: "Equals outside a condition", expr: `!Equals [a, a]`, err: "Fn::Equals belongs in a condition"},
		{name: "unknown function", expr: `{"Fn::Nope": 1}`, err: "Fn::Nope is not an intrinsic function"},
		{name: "nested in a mapping", expr: `{a: [!Ref Name, {b: !GetAtt Q.QueueName}]}`, want: map[string]any{"a": []any{"world", map[string]any{"b": "aiflow-q"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := evalExpr(t, c.expr)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				var e *Error
				require.ErrorAs(t, err, &e)
				require.Equal(t, "Outputs.X.Value", e.Path)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, got)
		})
	}
}

func TestNoValueRemovesTheKeyOrElement(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Conditions:
  No: !Equals [a, b]
Resources:
  R:
    Type: Custom::Thing
    Properties:
      Kept: x
      Gone: !If [No, x, !Ref AWS::NoValue]
      Plain: !Ref AWS::NoValue
      List: [a, !If [No, x, !Ref AWS::NoValue], c]
      Inner: {Gone: !Ref AWS::NoValue}
`))
	require.NoError(t, err)
	s, err := Resolve(Params{Template: tmpl})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"Kept": "x", "List": []any{"a", "c"}, "Inner": map[string]any{}}, s.Resources["R"].Properties)
	require.Equal(t, []NotRun{{LogicalID: "R", Type: "Custom::Thing", Reason: "the local stack does not run Custom::Thing"}}, s.NotRunHere)
}

func TestConditions(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  Stage: {Type: String, Default: dev}
  List: {Type: CommaDelimitedList, Default: "a,b"}
Conditions:
  IsDev: !Equals [!Ref Stage, dev]
  IsProd: !Equals [prod, !Ref Stage]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition IsDev, !Condition NotProd]
  Either: !Or [!Condition IsProd, !Equals [!Select [1, !Ref List], b]]
  Neither: !And [!Condition IsProd, !Condition IsDev, !Condition NotProd]
  NumberEqualsString: !Equals [1, "1"]
Resources:
  DevOnly: {Type: AWS::SQS::Queue, Condition: IsDev}
  ProdOnly: {Type: AWS::SQS::Queue, Condition: IsProd}
`))
	require.NoError(t, err)
	s, err := Resolve(Params{Template: tmpl})
	require.NoError(t, err)
	require.Equal(t, map[string]bool{
		"IsDev": true, "IsProd": false, "NotProd": true, "Both": true, "Either": true,
		"Neither": false, "NumberEqualsString": true,
	}, s.Conditions)
	require.Equal(t, []string{"ProdOnly"}, s.Omitted)
	_, ok := s.Queue("DevOnly")
	require.True(t, ok)

	s, err = Resolve(Params{Template: tmpl, Parameters: map[string]string{"Stage": "prod"}})
	require.NoError(t, err)
	require.Equal(t, []string{"DevOnly"}, s.Omitted)
	require.False(t, s.Conditions["Both"])
}

func TestConditionErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, yaml, err string }{
		{"cycle", "Conditions:\n  A: !Not [!Condition B]\n  B: !Not [!Condition A]\n", "Conditions.A: the condition refers to itself"},
		{"And of one", "Conditions:\n  A: !And [!Equals [a, a]]\n", "Conditions.A: Fn::And takes a list of 2 to 10 conditions"},
		{"Or of eleven", "Conditions:\n  A: !Or [" + strings.Repeat("!Equals [a, a], ", 10) + "!Equals [a, a]]\n", "Conditions.A: Fn::Or takes a list of 2 to 10 conditions"},
		{"not a condition function", "Conditions:\n  A: !Ref AWS::Region\n", "Conditions.A: a condition is Fn::Equals, Fn::And, Fn::Or, Fn::Not or Condition, not Ref"},
		{"literal", "Conditions:\n  A: true\n", "Conditions.A: a condition is Fn::Equals"},
		{"unknown condition", "Conditions:\n  A: !Condition B\n", "Conditions.A: B is not a condition"},
		{"Equals of one", "Conditions:\n  A: !Equals [a]\n", "Conditions.A: Fn::Equals takes a list of 2 values"},
		{"Equals of an unknown Ref", "Conditions:\n  A: !Equals [!Ref P, a]\n", "Conditions.A: Ref names P"},
		{"resource names an unknown condition", "Resources:\n  Q: {Type: AWS::SQS::Queue, Condition: Nope}\n", "Resources.Q.Condition: Nope is not a condition"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := samtemplate.Parse([]byte(c.yaml))
			require.NoError(t, err)
			_, err = Resolve(Params{Template: tmpl})
			require.ErrorContains(t, err, c.err)
		})
	}
}

func TestParameters(t *testing.T) {
	t.Parallel()
	const yaml = `
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Days: {Type: Number, Default: 30, AllowedValues: [1, 30, 90]}
  Count: {Type: Number, Default: 10, MinValue: 2, MaxValue: 1000}
  DB: {Type: String, Default: aiflow, AllowedPattern: "[a-z][a-z0-9_]{0,62}"}
  Short: {Type: String, Default: ab, MinLength: 1, MaxLength: 3}
  Audience: {Type: CommaDelimitedList}
  Subnets: {Type: "List<AWS::EC2::Subnet::Id>", Default: "subnet-1, subnet-2"}
  Vpc: {Type: "AWS::EC2::VPC::Id", Default: vpc-1}
  Zones: {Type: CommaDelimitedList, Default: "a,b", AllowedValues: [a, b, c]}
`
	tmpl, err := samtemplate.Parse([]byte(yaml))
	require.NoError(t, err)
	resolve := func(over map[string]string) (*Stack, error) {
		return Resolve(Params{Template: tmpl, Parameters: over})
	}

	_, err = resolve(nil)
	require.EqualError(t, err, "Parameters.Audience: no value: the parameter has no Default, so give one")

	s, err := resolve(map[string]string{"Audience": "x,y", "Stage": "prod", "Days": "90", "Count": "2"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"Stage": "prod", "Days": "90", "Count": "2", "DB": "aiflow", "Short": "ab",
		"Audience": []string{"x", "y"}, "Subnets": []string{"subnet-1", "subnet-2"}, "Vpc": "vpc-1",
		"Zones": []string{"a", "b"},
	}, s.Parameters)

	bad := []struct {
		over map[string]string
		err  string
	}{
		{map[string]string{"Stage": "test"}, `Parameters.Stage: "test" is not one of its AllowedValues dev, prod`},
		{map[string]string{"Days": "31"}, `Parameters.Days: "31" is not one of its AllowedValues 1, 30, 90`},
		{map[string]string{"Count": "1"}, "Parameters.Count: 1 is less than its MinValue 2"},
		{map[string]string{"Count": "1001"}, "Parameters.Count: 1001 is more than its MaxValue 1000"},
		{map[string]string{"Count": "ten"}, `Parameters.Count: "ten" is not a number`},
		{map[string]string{"DB": "Aiflow"}, `Parameters.DB: "Aiflow" does not match its AllowedPattern`},
		{map[string]string{"Short": "abcd"}, `Parameters.Short: "abcd" is longer than its MaxLength 3`},
		{map[string]string{"Short": ""}, `Parameters.Short: "" is shorter than its MinLength 1`},
		{map[string]string{"Zones": "a,d"}, `Parameters.Zones: "d" is not one of its AllowedValues a, b, c`},
		{map[string]string{"Nope": "x"}, "Parameters.Nope: Nope is not a parameter of the template"},
	}
	for _, b := range bad {
		over := map[string]string{"Audience": "x"}
		for k, v := range b.over {
			over[k] = v
		}
		_, err := resolve(over)
		require.ErrorContains(t, err, b.err, "%v", b.over)
	}

	tmpl, err = samtemplate.Parse([]byte("Parameters:\n  P: {Type: 'AWS::SSM::Parameter::Value<String>', Default: /x}\n"))
	require.NoError(t, err)
	_, err = Resolve(Params{Template: tmpl})
	require.ErrorContains(t, err, "Parameters.P: type AWS::SSM::Parameter::Value<String> reads Systems Manager")
}

func TestErrorNamesResourceAndProperty(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  DatabaseSecret:
    Type: AWS::SecretsManager::Secret
  AiStepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/aistep
      Environment:
        Variables:
          AIFLOW_DB_SECRET: !GetAtt DatabaseSecret.Foo
`))
	require.NoError(t, err)
	_, err = Resolve(Params{Template: tmpl})
	require.EqualError(t, err, "Resources.AiStepFunction.Properties.Environment.Variables.AIFLOW_DB_SECRET: Fn::GetAtt names DatabaseSecret.Foo, which is not an attribute of AWS::SecretsManager::Secret")
}

func TestGlobalsMergeAsSAMDoes(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Parameters:
  Level: {Type: String, Default: info}
Globals:
  Function:
    Timeout: 29
    MemorySize: 256
    Layers: [global-layer]
    Environment:
      Variables:
        LEVEL: !Ref Level
        SHARED: global
    VpcConfig: !Ref AWS::NoValue
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Timeout: 300
      Layers: [own-layer]
      ReservedConcurrentExecutions: 4
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 2}
      Environment:
        Variables:
          SHARED: !Sub "own-${Level}"
          OWN: "1"
`))
	require.NoError(t, err)
	s, err := Resolve(Params{Template: tmpl})
	require.NoError(t, err)
	f, ok := s.Function("Fn")
	require.True(t, ok)
	require.Equal(t, "functions/fn", f.Folder)
	require.Equal(t, 300, int(f.Timeout.Seconds()))
	require.Equal(t, 256, f.MemoryMB)
	require.Equal(t, 4, f.ReservedConcurrency)
	require.Equal(t, 2, f.ProvisionedConcurrency)
	require.Equal(t, map[string]string{"LEVEL": "info", "SHARED": "own-info", "OWN": "1"}, f.Environment)
	require.Equal(t, []any{"global-layer", "own-layer"}, s.Resources["Fn"].Properties["Layers"])
	_, hasVPC := s.Resources["Fn"].Properties["VpcConfig"]
	require.False(t, hasVPC)
}

// localNames is what the stack gives: queue URLs on its own SQS server.
type localNames struct{ AWSNames }

func (n localNames) Ref(r ResourceRef) (string, error) {
	if r.Type == "AWS::SQS::Queue" {
		return "http://127.0.0.1:9324/" + n.AccountID + "/" + n.PhysicalName(r), nil
	}
	return n.AWSNames.Ref(r)
}

func TestNamesComeFromTheCaller(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(fixture + "!Sub \"${Q}|${AWS::StackName}\"\n"))
	require.NoError(t, err)
	names := localNames{AWSNames{StackName: "local", Region: "eu-west-1", AccountID: "000000000000"}}
	s, err := Resolve(Params{Template: tmpl, StackName: "local", Region: "eu-west-1", AccountID: "000000000000", Names: names})
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9324/000000000000/local-q|local", s.Outputs["X"])
	q, ok := s.Queue("Q")
	require.True(t, ok)
	require.Equal(t, "arn:aws:sqs:eu-west-1:000000000000:local-q", q.ARN)
}

func TestMakefileFolders(t *testing.T) {
	t.Parallel()
	got, err := MakefileFolders([]byte("X := 1\nFUNCTIONS := ApiFunction:api  RecorderFunction:recorder\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"ApiFunction": "api", "RecorderFunction": "recorder"}, got)
	_, err = MakefileFolders([]byte("FUNCTIONS := ApiFunction\n"))
	require.ErrorContains(t, err, `"ApiFunction" is not LogicalId:folder`)
	_, err = MakefileFolders([]byte("all:\n"))
	require.ErrorContains(t, err, "no FUNCTIONS := list")
}

func TestHTTPAPICORSImplicitAPIAndRuleEvents(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: ["https://console.example"]
        AllowMethods: [GET, POST]
        AllowHeaders: [authorization]
        AllowCredentials: true
        MaxAge: 600
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Events:
        Get:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Path: /x, Method: get}
        Implicit:
          Type: HttpApi
        Nightly:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [aiflow]}
            Input: '{"a":1}'
        Poll:
          Type: Kinesis
          Properties: {Stream: arn}
        Checks:
          Type: Schedule
          Properties: {Schedule: rate(1 minute), Enabled: false}
`))
	require.NoError(t, err)
	s, err := Resolve(Params{Template: tmpl})
	require.NoError(t, err)
	require.Len(t, s.HTTPAPIs, 2)
	require.Equal(t, &CORS{
		AllowOrigins: []string{"https://console.example"}, AllowMethods: []string{"GET", "POST"},
		AllowHeaders: []string{"authorization"}, AllowCredentials: true, MaxAge: 600 * time.Second,
	}, s.HTTPAPIs[0].CORS)
	require.Equal(t, "Api", s.HTTPAPIs[0].LogicalID)
	require.Equal(t, "GET", s.HTTPAPIs[0].Routes[0].Method)
	require.Equal(t, "ServerlessHttpApi", s.HTTPAPIs[1].LogicalID)
	require.Equal(t, "https://"+s.HTTPAPIs[1].ID+".execute-api.us-east-1.amazonaws.com", s.HTTPAPIs[1].Endpoint)
	require.NotEqual(t, s.HTTPAPIs[0].ID, s.HTTPAPIs[1].ID)
	require.Equal(t, "arn:aws:events:us-east-1:123456789012:rule/aiflow-FnNightly", s.Rules[1].ARN)
	require.Equal(t, "$default", s.HTTPAPIs[1].Routes[0].Path)
	require.Equal(t, "ANY", s.HTTPAPIs[1].Routes[0].Method)
	require.Len(t, s.Rules, 2)
	require.Equal(t, "FnChecks", s.Rules[0].LogicalID, "a Schedule event is a rule too")
	require.Equal(t, "rate(1 minute)", s.Rules[0].ScheduleExpression)
	require.False(t, s.Rules[0].Enabled)
	require.Nil(t, s.Rules[0].EventPattern)
	require.Equal(t, "Fn", s.Rules[0].Targets[0].Function)
	s.Rules = s.Rules[1:]
	require.Equal(t, "FnNightly", s.Rules[0].LogicalID)
	require.Equal(t, map[string]any{"source": []any{"aiflow"}}, s.Rules[0].EventPattern)
	require.Equal(t, "Fn", s.Rules[0].Targets[0].Function)
	require.Equal(t, `{"a":1}`, s.Rules[0].Targets[0].Input)
	require.Equal(t, []NotRun{{LogicalID: "Fn.Poll", Type: "event Kinesis", Reason: "the local stack does not run Kinesis events"}}, s.NotRunHere)

	tmpl, err = samtemplate.Parse([]byte(`
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Events:
        Steps:
          Type: SQS
          Properties: {Queue: "arn:aws:sqs:us-east-1:123456789012:elsewhere"}
`))
	require.NoError(t, err)
	_, err = Resolve(Params{Template: tmpl})
	require.EqualError(t, err, "Resources.Fn.Properties.Events.Steps.Properties.Queue: arn:aws:sqs:us-east-1:123456789012:elsewhere is not the ARN of a queue of the stack")
}

// failingNames fails for queues, as a stack's resolver might.
type failingNames struct{ AWSNames }

func (n failingNames) Ref(r ResourceRef) (string, error) {
	if r.Type == "AWS::SQS::Queue" {
		return "", errors.New("the SQS server is not running")
	}
	return n.AWSNames.Ref(r)
}

func TestNamesErrorsNameTheProperty(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.Parse([]byte(`
Resources:
  Q:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fn
      Environment:
        Variables:
          QUEUE: !Ref Q
`))
	require.NoError(t, err)
	_, err = Resolve(Params{Template: tmpl, Names: failingNames{AWSNames{StackName: "s", Region: "r", AccountID: "a"}}})
	require.EqualError(t, err, "Resources.Fn.Properties.Environment.Variables.QUEUE: Ref Q: the SQS server is not running")
}
