// Package stackmodel reads template.yaml with the SAM transform's meaning
// and resolves it into the description `aiflow stack` runs: parameters and
// conditions evaluated, resources whose Condition is false left out, SAM
// Globals merged into the functions, and every intrinsic function resolved
// the way CloudFormation would.
//
// The model holds the functions (the functions/<folder> the Makefile's
// FUNCTIONS list builds for each logical id, handler, timeout, memory,
// concurrency, resolved environment, and their SQS, HttpApi and EventBridge
// event sources), the queues and their redrive policies, the state
// machines and their DefinitionSubstitutions, the HTTP API (routes, JWT
// authorizers, CORS), the EventBridge rules and targets, the secrets, the
// function URLs, and the resources that do not run on one machine (VPC,
// RDS, IAM, log groups, alarms, permissions), listed in NotRunHere with
// their logical ids so the stack can say so.
//
// Physical ids and attributes come from a Names the caller gives: the
// stack answers with its local endpoints (queue URLs on its SQS server,
// state machine ARNs of its engine); AWSNames makes the names AWS would,
// for tests and for the template's checks. Intrinsic functions:
//
//   - Ref: parameters (list types resolve to lists), the pseudo parameters
//     AWS::Region, AccountId, StackName, StackId, Partition, URLSuffix,
//     NotificationARNs and NoValue, and resources (Names.Ref);
//   - Fn::GetAtt, in both forms, the attribute possibly a Ref (Names.GetAtt);
//   - Fn::Sub, both forms, with ${Param}, ${Resource}, ${Resource.Attr},
//     ${AWS::Pseudo}, variables of its own, and ${!Literal};
//   - Fn::Join, Fn::Select, Fn::Split, Fn::Base64, and Fn::If, whose
//     AWS::NoValue removes the key or list element holding it;
//   - in Conditions: Fn::Equals, Fn::And, Fn::Or, Fn::Not, Condition.
//
// Fn::GetAZs, Fn::ImportValue, Fn::FindInMap, Fn::Cidr and the language
// extensions are refused with an error. Dynamic references
// ({{resolve:secretsmanager:...}}) are CloudFormation's deploy-time
// lookups, not intrinsic functions: they stay in the strings as written,
// their ${} resolved; DynamicReferences parses them and
// ReplaceDynamicReferences resolves them with the stack's own secrets.
//
// Every error is an *Error whose Path names the section, resource and
// property: Resources.ApiFunction.Properties.Environment.Variables.X:
// Fn::GetAtt names DatabaseSecret.Foo, which is not an attribute of
// AWS::SecretsManager::Secret. A function's properties are reported under
// Resources.<Function>.Properties after Globals are merged into them.
package stackmodel

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiflow/aiflow/internal/samtemplate"
)

// Stack is a resolved template.
type Stack struct {
	StackName string
	Region    string
	AccountID string
	// Parameters holds each parameter's value: a string, or a []string for
	// the list types.
	Parameters map[string]any
	// Conditions holds each condition's value.
	Conditions map[string]bool
	// Omitted lists the resources left out because their Condition is
	// false, sorted.
	Omitted []string

	Functions     []Function
	Queues        []Queue
	StateMachines []StateMachine
	HTTPAPIs      []HTTPAPI
	Rules         []Rule
	Secrets       []Secret
	FunctionURLs  []FunctionURL
	NotRunHere    []NotRun
	// Resources holds every resource the stack holds, its properties
	// resolved (Globals merged), by logical id.
	Resources map[string]Resource
	// Outputs holds the resolved value of each output whose Condition
	// holds.
	Outputs map[string]any
}

// Resource is a resource with its properties resolved.
type Resource struct {
	Type       string
	Properties map[string]any
	Metadata   map[string]any
}

// Function is an AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Name is its function name (Ref), ARN its Fn::GetAtt Arn.
	Name, ARN string
	// Folder is the package its bootstrap is built from, e.g. functions/api.
	Folder        string
	Handler       string
	Runtime       string
	Architectures []string
	Timeout       time.Duration
	MemoryMB      int
	// ReservedConcurrency and ProvisionedConcurrency are 0 when unset.
	ReservedConcurrency    int
	ProvisionedConcurrency int
	Environment            map[string]string
	SQSEvents              []SQSEvent
	HTTPEvents             []HTTPRoute
	// RuleEvents are the EventBridgeRule/CloudWatchEvent events; each is
	// also in Stack.Rules.
	RuleEvents []string
}

// SQSEvent is an SQS event source mapping of a function.
type SQSEvent struct {
	Name string
	// Queue is the queue's logical id, QueueARN the resolved ARN.
	Queue, QueueARN       string
	BatchSize             int
	MaximumBatchingWindow time.Duration
	// MaximumConcurrency is 0 when unset (Lambda's default, up to 1000).
	MaximumConcurrency      int
	ReportBatchItemFailures bool
	Enabled                 bool
}

// HTTPRoute is an HttpApi event of a function: one route of an HTTP API.
type HTTPRoute struct {
	Event string
	// API is the HTTP API's logical id (ServerlessHttpApi when the event
	// names none), Function the integration's logical id.
	API, Function string
	Method, Path  string
	// Authorizer is the authorizer's name, empty for none.
	Authorizer           string
	AuthorizationScopes  []string
	PayloadFormatVersion string
	Timeout              time.Duration
}

// Queue is an AWS::SQS::Queue.
type Queue struct {
	LogicalID string
	// Name is the queue's name; URL is its Ref, ARN its Fn::GetAtt Arn.
	Name, URL, ARN         string
	VisibilityTimeout      time.Duration
	MessageRetention       time.Duration
	Delay                  time.Duration
	MaximumMessageSize     int
	ReceiveMessageWaitTime time.Duration
	FIFO                   bool
	// DeadLetter is the redrive policy, nil without one.
	DeadLetter *Redrive
}

// Redrive is a queue's redrive policy.
type Redrive struct {
	// Queue is the dead-letter queue's logical id, ARN its ARN.
	Queue, ARN      string
	MaxReceiveCount int
}

// StateMachine is an AWS::Serverless::StateMachine.
type StateMachine struct {
	LogicalID string
	Name, ARN string
	Type      string
	// DefinitionURI is the definition's file, relative to the template;
	// Definition the inline definition when there is no file.
	DefinitionURI           string
	Definition              map[string]any
	DefinitionSubstitutions map[string]string
	RoleARN                 string
	// Logging is the resolved Logging property, nil without one; Tracing
	// is Tracing.Enabled.
	Logging map[string]any
	Tracing bool
}

// HTTPAPI is an AWS::Serverless::HttpApi (or the implicit
// ServerlessHttpApi SAM makes for routes that name no API).
type HTTPAPI struct {
	LogicalID string
	// ID is its Ref, Endpoint its Fn::GetAtt ApiEndpoint.
	ID, Endpoint      string
	DefaultAuthorizer string
	Authorizers       map[string]JWTAuthorizer
	CORS              *CORS
	Routes            []HTTPRoute
	// ThrottlingRateLimit and ThrottlingBurstLimit are the default route
	// settings, 0 when unset.
	ThrottlingRateLimit  float64
	ThrottlingBurstLimit int
}

// JWTAuthorizer is a JWT authorizer of an HTTP API.
type JWTAuthorizer struct {
	IdentitySource string
	Issuer         string
	Audience       []string
}

// CORS is an HTTP API's CorsConfiguration.
type CORS struct {
	AllowOrigins, AllowMethods, AllowHeaders, ExposeHeaders []string
	AllowCredentials                                        bool
	MaxAge                                                  time.Duration
}

// Rule is an AWS::Events::Rule, or a function's EventBridgeRule event.
type Rule struct {
	LogicalID          string
	Name, ARN          string
	EventBusName       string
	EventPattern       map[string]any
	ScheduleExpression string
	Enabled            bool
	Targets            []RuleTarget
}

// RuleTarget is a target of a rule.
type RuleTarget struct {
	ID, ARN string
	// Function is the target function's logical id, empty when the target
	// is not one of the stack's functions.
	Function  string
	Input     string
	InputPath string
	// MaximumRetryAttempts and MaximumEventAge are the retry policy
	// (EventBridge's defaults 185 and 24 h when unset).
	MaximumRetryAttempts int
	MaximumEventAge      time.Duration
	// DeadLetterQueue is the dead-letter queue's logical id, DeadLetterARN
	// its ARN; empty without one.
	DeadLetterQueue, DeadLetterARN string
}

// Secret is an AWS::SecretsManager::Secret.
type Secret struct {
	LogicalID string
	// Name is the template's Name, or <stack>-<logical id>; ARN is its Ref.
	Name, ARN   string
	Description string
	// SecretString is the given value; Generate the generation spec when
	// the secret is generated.
	SecretString string
	Generate     *GenerateSecretString
}

// GenerateSecretString is a secret's GenerateSecretString, defaults
// filled in.
type GenerateSecretString struct {
	SecretStringTemplate    string
	GenerateStringKey       string
	PasswordLength          int
	ExcludeCharacters       string
	ExcludeLowercase        bool
	ExcludeNumbers          bool
	ExcludePunctuation      bool
	ExcludeUppercase        bool
	IncludeSpace            bool
	RequireEachIncludedType bool
}

// FunctionURL is an AWS::Lambda::Url.
type FunctionURL struct {
	LogicalID string
	// Function is the target function's logical id; URL its FunctionUrl.
	Function, URL string
	AuthType      string
	InvokeMode    string
}

// NotRun is a resource the local stack does not run, and why.
type NotRun struct {
	LogicalID, Type, Reason string
}

// Params are the inputs of Resolve.
type Params struct {
	// Template is the parsed template.
	Template *samtemplate.Template
	// Folders maps each function's logical id to its folder under
	// functions/ (the Makefile's FUNCTIONS); see MakefileFolders.
	Folders map[string]string
	// Parameters overrides parameters' defaults.
	Parameters map[string]string
	// StackName, Region, AccountID, Partition and URLSuffix are the pseudo
	// parameters; empty ones default to aiflow, us-east-1, 123456789012,
	// aws and amazonaws.com.
	StackName, Region, AccountID, Partition, URLSuffix string
	// Names gives resources their physical ids and attributes; nil uses
	// AWSNames.
	Names Names
}

// LoadParams are the inputs of Load: Params without Template and Folders,
// which Load reads from Dir.
type LoadParams struct {
	// Dir holds template.yaml and the Makefile.
	Dir string
	Params
}

// Load reads Dir/template.yaml and Dir/Makefile and resolves them.
func Load(p LoadParams) (*Stack, error) {
	t, folders, err := Read(p.Dir)
	if err != nil {
		return nil, err
	}
	p.Template, p.Folders = t, folders
	return Resolve(p.Params)
}

// Read parses dir/template.yaml and reads the functions' folders from
// dir/Makefile's FUNCTIONS list: the inputs of Resolve, for a caller that
// changes the template before resolving it.
func Read(dir string) (*samtemplate.Template, map[string]string, error) {
	t, err := samtemplate.ParseFile(filepath.Join(dir, "template.yaml"))
	if err != nil {
		return nil, nil, err
	}
	mk, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the Makefile: %w", err)
	}
	folders, err := MakefileFolders(mk)
	if err != nil {
		return nil, nil, err
	}
	return t, folders, nil
}

// MakefileFolders reads the Makefile's FUNCTIONS list (LogicalId:folder
// ...) into a map of logical id to folder. It returns an error when there
// is no such list or an entry is not LogicalId:folder.
func MakefileFolders(makefile []byte) (map[string]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(makefile))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":=")
		if !ok || strings.TrimSpace(name) != "FUNCTIONS" {
			continue
		}
		out := map[string]string{}
		for _, f := range strings.Fields(value) {
			id, dir, ok := strings.Cut(f, ":")
			if !ok || id == "" || dir == "" {
				return nil, fmt.Errorf("reading the Makefile's FUNCTIONS: %q is not LogicalId:folder", f)
			}
			out[id] = dir
		}
		return out, nil
	}
	return nil, fmt.Errorf("reading the Makefile: it has no FUNCTIONS := list")
}

// Resolve resolves a template. It returns an *Error naming the section,
// resource and property of the first problem.
func Resolve(p Params) (*Stack, error) {
	if p.Template == nil {
		return nil, fmt.Errorf("resolving the template: no template")
	}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&p.StackName, "aiflow")
	def(&p.Region, "us-east-1")
	def(&p.AccountID, "123456789012")
	def(&p.Partition, "aws")
	def(&p.URLSuffix, "amazonaws.com")
	if p.Names == nil {
		p.Names = AWSNames{StackName: p.StackName, Region: p.Region, AccountID: p.AccountID}
	}
	params, err := parameters(p.Template.Parameters, p.Parameters)
	if err != nil {
		return nil, err
	}
	pseudo := map[string]any{
		"AWS::AccountId":        p.AccountID,
		"AWS::Region":           p.Region,
		"AWS::StackName":        p.StackName,
		"AWS::StackId":          "arn:" + p.Partition + ":cloudformation:" + p.Region + ":" + p.AccountID + ":stack/" + p.StackName + "/" + shortID(p.StackName),
		"AWS::Partition":        p.Partition,
		"AWS::URLSuffix":        p.URLSuffix,
		"AWS::NotificationARNs": []any{},
	}
	r := newResolver(p.Template, params, pseudo, p.Names)
	s := &Stack{
		StackName: p.StackName, Region: p.Region, AccountID: p.AccountID,
		Parameters: map[string]any{}, Conditions: map[string]bool{},
		Resources: map[string]Resource{}, Outputs: map[string]any{},
	}
	for k, v := range params {
		if l, ok := v.([]any); ok {
			ss := make([]string, len(l))
			for i, e := range l {
				ss[i] = e.(string)
			}
			s.Parameters[k] = ss
		} else {
			s.Parameters[k] = v
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Template.Conditions)) {
		c, err := r.condition(name)
		if err != nil {
			return nil, err
		}
		s.Conditions[name] = c
	}
	ids := slices.Sorted(maps.Keys(p.Template.Resources))
	for _, id := range ids {
		res := p.Template.Resources[id]
		if res.Condition != "" {
			c, err := r.condition(res.Condition)
			if err != nil {
				return nil, &Error{Path: "Resources." + id + ".Condition", Err: err}
			}
			if !c {
				s.Omitted = append(s.Omitted, id)
				continue
			}
		}
		props := res.Properties
		if g, ok := p.Template.Globals[globalsSection[res.Type]].(map[string]any); ok {
			props = mergeGlobals(g, props).(map[string]any)
		}
		v, err := r.resolve(props, "Resources."+id+".Properties")
		if err != nil {
			return nil, err
		}
		md, err := r.resolve(res.Metadata, "Resources."+id+".Metadata")
		if err != nil {
			return nil, err
		}
		s.Resources[id] = Resource{Type: res.Type, Properties: v.(map[string]any), Metadata: md.(map[string]any)}
	}
	b := &builder{r: r, s: s, folders: p.Folders}
	if err := b.build(ids); err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(p.Template.Outputs)) {
		out, _ := p.Template.Outputs[name].(map[string]any)
		if c, ok := out["Condition"].(string); ok {
			v, err := r.condition(c)
			if err != nil {
				return nil, &Error{Path: "Outputs." + name + ".Condition", Err: err}
			}
			if !v {
				continue
			}
		}
		v, err := r.resolve(out["Value"], "Outputs."+name+".Value")
		if err != nil {
			return nil, err
		}
		s.Outputs[name] = v
	}
	return s, nil
}

// globalsSection is the Globals section of each SAM resource type.
var globalsSection = map[string]string{
	"AWS::Serverless::Function":     "Function",
	"AWS::Serverless::HttpApi":      "HttpApi",
	"AWS::Serverless::Api":          "Api",
	"AWS::Serverless::StateMachine": "StateMachine",
	"AWS::Serverless::SimpleTable":  "SimpleTable",
}

// mergeGlobals merges a Globals section into a resource's properties as
// SAM does: the resource's scalars override, mappings merge key by key
// (the resource's value wins, recursively), and lists are the global
// entries followed by the resource's. An intrinsic function counts as a
// scalar.
func mergeGlobals(global, local any) any {
	gm, gok := global.(map[string]any)
	lm, lok := local.(map[string]any)
	if gok && lok {
		if _, _, ok := isIntrinsic(gm); !ok {
			if _, _, ok := isIntrinsic(lm); !ok {
				out := maps.Clone(gm)
				for k, v := range lm {
					if g, ok := gm[k]; ok {
						out[k] = mergeGlobals(g, v)
					} else {
						out[k] = v
					}
				}
				return out
			}
		}
	}
	gl, gok := global.([]any)
	ll, lok := local.([]any)
	if gok && lok {
		return append(slices.Clone(gl), ll...)
	}
	return local
}

// DefinitionString returns the state machine's definition (its file read
// from fsys, rooted at the template's folder, or its inline Definition)
// with its DefinitionSubstitutions applied, as SAM applies them.
func (sm StateMachine) DefinitionString(fsys fs.FS) (string, error) {
	var text string
	if sm.DefinitionURI != "" {
		b, err := fs.ReadFile(fsys, path.Clean(sm.DefinitionURI))
		if err != nil {
			return "", fmt.Errorf("reading the definition of %s: %w", sm.LogicalID, err)
		}
		text = string(b)
	} else {
		b, err := json.Marshal(sm.Definition)
		if err != nil {
			return "", fmt.Errorf("encoding the definition of %s: %w", sm.LogicalID, err)
		}
		text = string(b)
	}
	for _, k := range slices.Sorted(maps.Keys(sm.DefinitionSubstitutions)) {
		text = strings.ReplaceAll(text, "${"+k+"}", sm.DefinitionSubstitutions[k])
	}
	return text, nil
}

// Function returns the function with that logical id, and whether there
// is one.
func (s *Stack) Function(id string) (Function, bool) {
	i := slices.IndexFunc(s.Functions, func(f Function) bool { return f.LogicalID == id })
	if i < 0 {
		return Function{}, false
	}
	return s.Functions[i], true
}

// Queue returns the queue with that logical id, and whether there is one.
func (s *Stack) Queue(id string) (Queue, bool) {
	i := slices.IndexFunc(s.Queues, func(q Queue) bool { return q.LogicalID == id })
	if i < 0 {
		return Queue{}, false
	}
	return s.Queues[i], true
}

// intOf reads an integer property (a number or a numeric string).
func intOf(v any, path string) (int, error) {
	s, ok := scalarString(v)
	if ok {
		if i, err := strconv.Atoi(s); err == nil {
			return i, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil && f == float64(int(f)) {
			return int(f), nil
		}
	}
	return 0, &Error{Path: path, Err: fmt.Errorf("an integer, not %s", describe(v))}
}

func boolOf(v any, path string) (bool, error) {
	s, ok := scalarString(v)
	if b, err := strconv.ParseBool(s); ok && err == nil {
		return b, nil
	}
	return false, &Error{Path: path, Err: fmt.Errorf("a boolean, not %s", describe(v))}
}

func stringOf(v any, path string) (string, error) {
	s, ok := scalarString(v)
	if !ok {
		return "", &Error{Path: path, Err: fmt.Errorf("a string, not %s", describe(v))}
	}
	return s, nil
}

func stringsOf(v any, path string) ([]string, error) {
	if s, ok := scalarString(v); ok {
		return []string{s}, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, &Error{Path: path, Err: fmt.Errorf("a list of strings, not %s", describe(v))}
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, err := stringOf(e, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// props reads the optional properties of one mapping of the template, in
// the order asked: a property that is absent leaves its destination as it
// is, and the first property of the wrong type stops the reading (of the
// mapping and of the mappings under it), its error naming the property's
// path.
type props struct {
	m   map[string]any
	at  string
	err *error
}

func newProps(m map[string]any, at string) *props {
	return &props{m: m, at: at, err: new(error)}
}

// Err returns the first error of the reading.
func (r *props) Err() error { return *r.err }

// read calls f with the value of key and its path when key is present and
// no earlier property failed.
func (r *props) read(key string, f func(v any, path string) error) {
	if *r.err != nil {
		return
	}
	if v, ok := r.m[key]; ok {
		*r.err = f(v, r.at+"."+key)
	}
}

func (r *props) str(key string, dst *string) {
	r.read(key, func(v any, path string) (err error) { *dst, err = stringOf(v, path); return err })
}

func (r *props) strs(key string, dst *[]string) {
	r.read(key, func(v any, path string) (err error) { *dst, err = stringsOf(v, path); return err })
}

func (r *props) int(key string, dst *int) {
	r.read(key, func(v any, path string) (err error) { *dst, err = intOf(v, path); return err })
}

func (r *props) bool(key string, dst *bool) {
	r.read(key, func(v any, path string) (err error) { *dst, err = boolOf(v, path); return err })
}

// duration reads a whole number of units, such as TimeoutInMillis.
func (r *props) duration(key string, unit time.Duration, dst *time.Duration) {
	r.read(key, func(v any, path string) error {
		n, err := intOf(v, path)
		if err == nil {
			*dst = time.Duration(n) * unit
		}
		return err
	})
}

// sub is the reader of the mapping under key, which reads nothing when key
// is absent or not a mapping; it shares r's error.
func (r *props) sub(key string) *props {
	m, _ := r.m[key].(map[string]any)
	return &props{m: m, at: r.at + "." + key, err: r.err}
}
