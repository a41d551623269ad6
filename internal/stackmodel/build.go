package stackmodel

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"time"
)

// builder turns resolved resources into the model.
type builder struct {
	r       *resolver
	s       *Stack
	folders map[string]string
	// byARN maps the ARNs of queues and functions, and the ids of HTTP
	// APIs, to their logical ids.
	byARN map[string]string
	apis  map[string]*HTTPAPI
}

// notRunReasons says why a type (or a type prefix) does not run here.
var notRunReasons = []struct{ prefix, reason string }{
	{"AWS::EC2::", "networking: everything runs on this machine's loopback"},
	{"AWS::RDS::", "the database: the stack uses a local PostgreSQL"},
	{"AWS::IAM::", "IAM: nothing checks permissions on this machine"},
	{"AWS::Logs::", "log groups: functions log to the stack's output"},
	{"AWS::CloudWatch::", "alarms and the dashboard: CloudWatch does not run here (aiflow dev and aiflow engine serve /metrics)"},
	{"AWS::SQS::QueuePolicy", "resource policies are not enforced"},
	{"AWS::Lambda::Permission", "resource policies are not enforced"},
	{"AWS::SecretsManager::SecretTargetAttachment", "it attaches a secret to RDS, which does not run here"},
}

func notRunReason(typ string) string {
	for _, n := range notRunReasons {
		if strings.HasPrefix(typ, n.prefix) {
			return n.reason
		}
	}
	return "the local stack does not run " + typ
}

func (b *builder) build(ids []string) error {
	b.byARN = map[string]string{}
	b.apis = map[string]*HTTPAPI{}
	for _, id := range ids {
		res, ok := b.s.Resources[id]
		if !ok {
			continue
		}
		attr := ""
		switch res.Type {
		case "AWS::SQS::Queue", "AWS::Serverless::Function", "AWS::Lambda::Function":
			attr = "Arn"
		case "AWS::Serverless::HttpApi":
			v, err := b.r.ref(id)
			if err != nil {
				return errAt("Resources."+id, err)
			}
			b.byARN[v.(string)] = id
		}
		if attr != "" {
			v, err := b.r.attribute(id, attr)
			if err != nil {
				return errAt("Resources."+id, err)
			}
			b.byARN[v] = id
		}
	}
	for _, id := range ids {
		res, ok := b.s.Resources[id]
		if !ok {
			continue
		}
		var err error
		switch res.Type {
		case "AWS::Serverless::HttpApi":
			err = b.httpAPI(id, res)
		case "AWS::SQS::Queue":
			err = b.queue(id, res)
		case "AWS::Serverless::StateMachine":
			err = b.stateMachine(id, res)
		case "AWS::Events::Rule":
			err = b.rule(id, res)
		case "AWS::SecretsManager::Secret":
			err = b.secret(id, res)
		case "AWS::Lambda::Url":
			err = b.functionURL(id, res)
		case "AWS::Serverless::Function":
		case "AWS::S3::Bucket":
			// The stack serves its objects (internal/s3api); the bucket's
			// other settings (lifecycle, encryption) are AWS's.
		default:
			b.s.NotRunHere = append(b.s.NotRunHere, NotRun{LogicalID: id, Type: res.Type, Reason: notRunReason(res.Type)})
		}
		if err != nil {
			return err
		}
	}
	// Functions last: their HttpApi events add routes to the APIs.
	for _, id := range ids {
		if res, ok := b.s.Resources[id]; ok && res.Type == "AWS::Serverless::Function" {
			if err := b.function(id, res); err != nil {
				return err
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(b.apis)) {
		b.s.HTTPAPIs = append(b.s.HTTPAPIs, *b.apis[id])
	}
	return nil
}

func (b *builder) function(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	f := Function{LogicalID: id, Handler: "bootstrap", Timeout: 3 * time.Second, MemoryMB: 128, Environment: map[string]string{}}
	name, err := b.r.ref(id)
	if err != nil {
		return errAt("Resources."+id, err)
	}
	f.Name = name.(string)
	if f.ARN, err = b.r.attribute(id, "Arn"); err != nil {
		return errAt("Resources."+id, err)
	}
	if bm, _ := res.Metadata["BuildMethod"].(string); bm == "makefile" {
		dir, ok := b.folders[id]
		if !ok {
			return &Error{Path: "Resources." + id + ".Metadata.BuildMethod", Err: fmt.Errorf("makefile builds run build-%s, and the Makefile's FUNCTIONS does not list %s", id, id)}
		}
		f.Folder = path.Join("functions", dir)
	} else {
		cu, err := stringOf(p["CodeUri"], at+".CodeUri")
		if err != nil {
			return err
		}
		f.Folder = path.Clean(cu)
	}
	r := newProps(p, at)
	r.str("Handler", &f.Handler)
	r.str("Runtime", &f.Runtime)
	r.strs("Architectures", &f.Architectures)
	r.duration("Timeout", time.Second, &f.Timeout)
	r.int("MemorySize", &f.MemoryMB)
	r.int("ReservedConcurrentExecutions", &f.ReservedConcurrency)
	if err := r.Err(); err != nil {
		return err
	}
	if pc, ok := p["ProvisionedConcurrencyConfig"].(map[string]any); ok {
		if f.ProvisionedConcurrency, err = intOf(pc["ProvisionedConcurrentExecutions"], at+".ProvisionedConcurrencyConfig.ProvisionedConcurrentExecutions"); err != nil {
			return err
		}
	}
	if env, ok := p["Environment"].(map[string]any); ok {
		vars, _ := env["Variables"].(map[string]any)
		for k, v := range vars {
			if f.Environment[k], err = stringOf(v, at+".Environment.Variables."+k); err != nil {
				return err
			}
		}
	}
	events, _ := p["Events"].(map[string]any)
	for _, name := range slices.Sorted(maps.Keys(events)) {
		ep := at + ".Events." + name
		ev, _ := events[name].(map[string]any)
		typ, _ := ev["Type"].(string)
		props, _ := ev["Properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		ep += ".Properties"
		switch typ {
		case "SQS":
			e, err := b.sqsEvent(name, props, ep)
			if err != nil {
				return err
			}
			f.SQSEvents = append(f.SQSEvents, e)
		case "HttpApi":
			e, err := b.httpEvent(id, name, props, ep)
			if err != nil {
				return err
			}
			f.HTTPEvents = append(f.HTTPEvents, e)
		case "EventBridgeRule", "CloudWatchEvent", "Schedule":
			if err := b.ruleEvent(f, name, props, ep); err != nil {
				return err
			}
			f.RuleEvents = append(f.RuleEvents, name)
		default:
			b.s.NotRunHere = append(b.s.NotRunHere, NotRun{LogicalID: id + "." + name, Type: "event " + typ, Reason: "the local stack does not run " + typ + " events"})
		}
	}
	b.s.Functions = append(b.s.Functions, f)
	return nil
}

func (b *builder) sqsEvent(name string, p map[string]any, at string) (SQSEvent, error) {
	e := SQSEvent{Name: name, BatchSize: 10, Enabled: true}
	var err error
	if e.QueueARN, err = stringOf(p["Queue"], at+".Queue"); err != nil {
		return e, err
	}
	var ok bool
	if e.Queue, ok = b.byARN[e.QueueARN]; !ok {
		return e, &Error{Path: at + ".Queue", Err: fmt.Errorf("%s is not the ARN of a queue of the stack", e.QueueARN)}
	}
	r := newProps(p, at)
	r.int("BatchSize", &e.BatchSize)
	r.duration("MaximumBatchingWindowInSeconds", time.Second, &e.MaximumBatchingWindow)
	r.sub("ScalingConfig").int("MaximumConcurrency", &e.MaximumConcurrency)
	var types []string
	r.strs("FunctionResponseTypes", &types)
	e.ReportBatchItemFailures = slices.Contains(types, "ReportBatchItemFailures")
	r.bool("Enabled", &e.Enabled)
	return e, r.Err()
}

func (b *builder) httpEvent(fn, name string, p map[string]any, at string) (HTTPRoute, error) {
	e := HTTPRoute{Event: name, Function: fn, Method: "ANY", Path: "$default", PayloadFormatVersion: "2.0", Timeout: 30 * time.Second}
	api := "ServerlessHttpApi"
	if v, ok := p["ApiId"]; ok {
		id, err := stringOf(v, at+".ApiId")
		if err != nil {
			return e, err
		}
		if api, ok = b.byARN[id]; !ok {
			return e, &Error{Path: at + ".ApiId", Err: fmt.Errorf("%s is not the id of an HTTP API of the stack", id)}
		}
	}
	e.API = api
	a, ok := b.apis[api]
	if !ok {
		// SAM's implicit API, made for the routes that name none.
		a = &HTTPAPI{LogicalID: api, Authorizers: map[string]JWTAuthorizer{}}
		ref := ResourceRef{LogicalID: api, Type: "AWS::Serverless::HttpApi"}
		var err error
		if a.ID, err = b.r.names.Ref(ref); err != nil {
			return e, &Error{Path: at, Err: fmt.Errorf("Ref %s: %w", api, err)}
		}
		if a.Endpoint, err = b.r.names.GetAtt(ref, "ApiEndpoint"); err != nil {
			return e, &Error{Path: at, Err: fmt.Errorf("Fn::GetAtt %s.ApiEndpoint: %w", api, err)}
		}
		b.apis[api] = a
	}
	r := newProps(p, at)
	r.str("Method", &e.Method)
	e.Method = strings.ToUpper(e.Method)
	r.str("Path", &e.Path)
	r.str("PayloadFormatVersion", &e.PayloadFormatVersion)
	r.duration("TimeoutInMillis", time.Millisecond, &e.Timeout)
	e.Authorizer = a.DefaultAuthorizer
	auth := r.sub("Auth")
	auth.str("Authorizer", &e.Authorizer)
	auth.strs("AuthorizationScopes", &e.AuthorizationScopes)
	if err := r.Err(); err != nil {
		return e, err
	}
	if e.Authorizer == "NONE" {
		e.Authorizer = ""
	}
	if _, ok := a.Authorizers[e.Authorizer]; e.Authorizer != "" && !ok {
		return e, &Error{Path: at + ".Auth.Authorizer", Err: fmt.Errorf("%s is not an authorizer of %s", e.Authorizer, api)}
	}
	a.Routes = append(a.Routes, e)
	return e, nil
}

func (b *builder) httpAPI(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	a := &HTTPAPI{LogicalID: id, Authorizers: map[string]JWTAuthorizer{}}
	v, err := b.r.ref(id)
	if err != nil {
		return errAt("Resources."+id, err)
	}
	a.ID = v.(string)
	if a.Endpoint, err = b.r.attribute(id, "ApiEndpoint"); err != nil {
		return errAt("Resources."+id, err)
	}
	if auth, ok := p["Auth"].(map[string]any); ok {
		if v, ok := auth["DefaultAuthorizer"]; ok {
			if a.DefaultAuthorizer, err = stringOf(v, at+".Auth.DefaultAuthorizer"); err != nil {
				return err
			}
		}
		authorizers, _ := auth["Authorizers"].(map[string]any)
		for name, raw := range authorizers {
			ap := at + ".Auth.Authorizers." + name
			m, _ := raw.(map[string]any)
			jc, ok := m["JwtConfiguration"].(map[string]any)
			if !ok {
				return &Error{Path: ap, Err: fmt.Errorf("only JWT authorizers (JwtConfiguration) run here")}
			}
			j := JWTAuthorizer{IdentitySource: "$request.header.Authorization"}
			if v, ok := m["IdentitySource"]; ok {
				if j.IdentitySource, err = stringOf(v, ap+".IdentitySource"); err != nil {
					return err
				}
			}
			if j.Issuer, err = stringOf(jc["issuer"], ap+".JwtConfiguration.issuer"); err != nil {
				return err
			}
			if j.Audience, err = stringsOf(jc["audience"], ap+".JwtConfiguration.audience"); err != nil {
				return err
			}
			a.Authorizers[name] = j
		}
		if _, ok := a.Authorizers[a.DefaultAuthorizer]; a.DefaultAuthorizer != "" && !ok {
			return &Error{Path: at + ".Auth.DefaultAuthorizer", Err: fmt.Errorf("%s is not one of Auth.Authorizers", a.DefaultAuthorizer)}
		}
	}
	if c, ok := p["CorsConfiguration"]; ok {
		if a.CORS, err = cors(c, at+".CorsConfiguration"); err != nil {
			return err
		}
	}
	if rs, ok := p["DefaultRouteSettings"].(map[string]any); ok {
		if v, ok := rs["ThrottlingRateLimit"]; ok {
			if a.ThrottlingRateLimit, ok = number(v); !ok {
				return &Error{Path: at + ".DefaultRouteSettings.ThrottlingRateLimit", Err: fmt.Errorf("a number, not %s", describe(v))}
			}
		}
		if v, ok := rs["ThrottlingBurstLimit"]; ok {
			if a.ThrottlingBurstLimit, err = intOf(v, at+".DefaultRouteSettings.ThrottlingBurstLimit"); err != nil {
				return err
			}
		}
	}
	b.apis[id] = a
	return nil
}

func cors(v any, at string) (*CORS, error) {
	if on, ok := v.(bool); ok {
		if !on {
			return nil, nil
		}
		// SAM's CorsConfiguration: true allows every origin.
		return &CORS{AllowOrigins: []string{"*"}}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &Error{Path: at, Err: fmt.Errorf("true or a mapping, not %s", describe(v))}
	}
	c := &CORS{}
	r := newProps(m, at)
	r.strs("AllowOrigins", &c.AllowOrigins)
	r.strs("AllowMethods", &c.AllowMethods)
	r.strs("AllowHeaders", &c.AllowHeaders)
	r.strs("ExposeHeaders", &c.ExposeHeaders)
	r.bool("AllowCredentials", &c.AllowCredentials)
	r.duration("MaxAge", time.Second, &c.MaxAge)
	if err := r.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (b *builder) queue(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	q := Queue{LogicalID: id, VisibilityTimeout: 30 * time.Second, MessageRetention: 4 * 24 * time.Hour, MaximumMessageSize: 262144}
	var err error
	if q.Name, err = b.r.names.GetAtt(ResourceRef{LogicalID: id, Type: res.Type, Name: b.r.nameOf[id]}, "QueueName"); err != nil {
		return errAt("Resources."+id, err)
	}
	v, err := b.r.ref(id)
	if err != nil {
		return errAt("Resources."+id, err)
	}
	q.URL = v.(string)
	if q.ARN, err = b.r.attribute(id, "Arn"); err != nil {
		return errAt("Resources."+id, err)
	}
	r := newProps(p, at)
	r.duration("VisibilityTimeout", time.Second, &q.VisibilityTimeout)
	r.duration("MessageRetentionPeriod", time.Second, &q.MessageRetention)
	r.duration("DelaySeconds", time.Second, &q.Delay)
	r.duration("ReceiveMessageWaitTimeSeconds", time.Second, &q.ReceiveMessageWaitTime)
	r.int("MaximumMessageSize", &q.MaximumMessageSize)
	r.bool("FifoQueue", &q.FIFO)
	if err := r.Err(); err != nil {
		return err
	}
	if raw, ok := p["RedrivePolicy"]; ok {
		rp, ok := raw.(map[string]any)
		if s, isString := raw.(string); isString {
			ok = json.Unmarshal([]byte(s), &rp) == nil
		}
		if !ok {
			return &Error{Path: at + ".RedrivePolicy", Err: fmt.Errorf("a mapping or its JSON, not %s", describe(raw))}
		}
		d := &Redrive{}
		if d.ARN, err = stringOf(rp["deadLetterTargetArn"], at+".RedrivePolicy.deadLetterTargetArn"); err != nil {
			return err
		}
		if d.Queue, ok = b.byARN[d.ARN]; !ok {
			return &Error{Path: at + ".RedrivePolicy.deadLetterTargetArn", Err: fmt.Errorf("%s is not the ARN of a queue of the stack", d.ARN)}
		}
		if d.MaxReceiveCount, err = intOf(rp["maxReceiveCount"], at+".RedrivePolicy.maxReceiveCount"); err != nil {
			return err
		}
		q.DeadLetter = d
	}
	b.s.Queues = append(b.s.Queues, q)
	return nil
}

func (b *builder) stateMachine(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	sm := StateMachine{LogicalID: id, Type: "STANDARD", DefinitionSubstitutions: map[string]string{}}
	var err error
	if sm.ARN, err = b.r.attribute(id, "Arn"); err != nil {
		return errAt("Resources."+id, err)
	}
	if sm.Name, err = b.r.attribute(id, "Name"); err != nil {
		return errAt("Resources."+id, err)
	}
	r := newProps(p, at)
	r.str("Type", &sm.Type)
	if err := r.Err(); err != nil {
		return err
	}
	if v, ok := p["DefinitionUri"]; ok {
		if sm.DefinitionURI, err = stringOf(v, at+".DefinitionUri"); err != nil {
			return &Error{Path: at + ".DefinitionUri", Err: fmt.Errorf("a file of the repository (an S3 location cannot be read here), not %s", describe(v))}
		}
	} else if d, ok := p["Definition"].(map[string]any); ok {
		sm.Definition = d
	} else {
		return &Error{Path: at, Err: fmt.Errorf("the state machine has neither DefinitionUri nor Definition")}
	}
	subs, _ := p["DefinitionSubstitutions"].(map[string]any)
	for k, v := range subs {
		if sm.DefinitionSubstitutions[k], err = stringOf(v, at+".DefinitionSubstitutions."+k); err != nil {
			return err
		}
	}
	r.str("Role", &sm.RoleARN)
	sm.Logging, _ = p["Logging"].(map[string]any)
	r.sub("Tracing").bool("Enabled", &sm.Tracing)
	if err := r.Err(); err != nil {
		return err
	}
	b.s.StateMachines = append(b.s.StateMachines, sm)
	return nil
}

func (b *builder) rule(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	ru := Rule{LogicalID: id, EventBusName: "default", Enabled: true}
	v, err := b.r.ref(id)
	if err != nil {
		return errAt("Resources."+id, err)
	}
	ru.Name = v.(string)
	if ru.ARN, err = b.r.attribute(id, "Arn"); err != nil {
		return errAt("Resources."+id, err)
	}
	if err := b.ruleCommon(&ru, p, at); err != nil {
		return err
	}
	if v, ok := p["State"]; ok {
		state, err := stringOf(v, at+".State")
		if err != nil {
			return err
		}
		ru.Enabled = state == "ENABLED"
	}
	targets, _ := p["Targets"].([]any)
	for i, raw := range targets {
		tp := fmt.Sprintf("%s.Targets[%d]", at, i)
		m, _ := raw.(map[string]any)
		t := RuleTarget{MaximumRetryAttempts: 185, MaximumEventAge: 24 * time.Hour}
		if t.ID, err = stringOf(m["Id"], tp+".Id"); err != nil {
			return err
		}
		if t.ARN, err = stringOf(m["Arn"], tp+".Arn"); err != nil {
			return err
		}
		if fn := b.byARN[t.ARN]; b.s.Resources[fn].Type == "AWS::Serverless::Function" || b.s.Resources[fn].Type == "AWS::Lambda::Function" {
			t.Function = fn
		}
		r := newProps(m, tp)
		r.str("Input", &t.Input)
		r.str("InputPath", &t.InputPath)
		retry := r.sub("RetryPolicy")
		retry.int("MaximumRetryAttempts", &t.MaximumRetryAttempts)
		retry.duration("MaximumEventAgeInSeconds", time.Second, &t.MaximumEventAge)
		if err := r.Err(); err != nil {
			return err
		}
		if dl, ok := m["DeadLetterConfig"].(map[string]any); ok {
			if t.DeadLetterARN, err = stringOf(dl["Arn"], tp+".DeadLetterConfig.Arn"); err != nil {
				return err
			}
			if t.DeadLetterQueue, ok = b.byARN[t.DeadLetterARN]; !ok {
				return &Error{Path: tp + ".DeadLetterConfig.Arn", Err: fmt.Errorf("%s is not the ARN of a queue of the stack", t.DeadLetterARN)}
			}
		}
		ru.Targets = append(ru.Targets, t)
	}
	b.s.Rules = append(b.s.Rules, ru)
	return nil
}

// ruleCommon reads the pattern, schedule and bus of a rule or of a
// function's EventBridgeRule event (Pattern there, EventPattern here).
func (b *builder) ruleCommon(ru *Rule, p map[string]any, at string) error {
	for _, key := range []string{"EventPattern", "Pattern"} {
		raw, ok := p[key]
		if !ok {
			continue
		}
		pat, ok := raw.(map[string]any)
		if s, isString := raw.(string); isString {
			ok = json.Unmarshal([]byte(s), &pat) == nil
		}
		if !ok {
			return &Error{Path: at + "." + key, Err: fmt.Errorf("an event pattern (a mapping or its JSON), not %s", describe(raw))}
		}
		ru.EventPattern = pat
	}
	r := newProps(p, at)
	r.str("ScheduleExpression", &ru.ScheduleExpression)
	r.str("Schedule", &ru.ScheduleExpression)
	r.str("EventBusName", &ru.EventBusName)
	return r.Err()
}

func (b *builder) ruleEvent(f Function, name string, p map[string]any, at string) error {
	// SAM names the rule it makes <Function><Event>.
	id := f.LogicalID + name
	ref := ResourceRef{LogicalID: id, Type: "AWS::Events::Rule"}
	ru := Rule{LogicalID: id, EventBusName: "default", Enabled: true}
	var err error
	if ru.Name, err = b.r.names.Ref(ref); err != nil {
		return &Error{Path: at, Err: fmt.Errorf("Ref %s: %w", id, err)}
	}
	if ru.ARN, err = b.r.names.GetAtt(ref, "Arn"); err != nil {
		return &Error{Path: at, Err: fmt.Errorf("Fn::GetAtt %s.Arn: %w", id, err)}
	}
	if err := b.ruleCommon(&ru, p, at); err != nil {
		return err
	}
	if v, ok := p["State"]; ok {
		state, err := stringOf(v, at+".State")
		if err != nil {
			return err
		}
		ru.Enabled = state == "ENABLED"
	}
	if v, ok := p["Enabled"]; ok {
		// A Schedule event's switch (SAM's Enabled, or State as above).
		enabled, isBool := v.(bool)
		if !isBool {
			return &Error{Path: at + ".Enabled", Err: fmt.Errorf("a boolean, not %s", describe(v))}
		}
		ru.Enabled = enabled
	}
	t := RuleTarget{ID: id + "LambdaTarget", ARN: f.ARN, Function: f.LogicalID, MaximumRetryAttempts: 185, MaximumEventAge: 24 * time.Hour}
	r := newProps(p, at)
	r.str("Input", &t.Input)
	r.str("InputPath", &t.InputPath)
	retry := r.sub("RetryPolicy")
	retry.int("MaximumRetryAttempts", &t.MaximumRetryAttempts)
	retry.duration("MaximumEventAgeInSeconds", time.Second, &t.MaximumEventAge)
	if err := r.Err(); err != nil {
		return err
	}
	ru.Targets = []RuleTarget{t}
	b.s.Rules = append(b.s.Rules, ru)
	return nil
}

func (b *builder) secret(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	v, err := b.r.ref(id)
	if err != nil {
		return errAt("Resources."+id, err)
	}
	s := Secret{LogicalID: id, Name: b.r.nameOf[id], ARN: v.(string)}
	if s.Name == "" {
		s.Name = b.s.StackName + "-" + id
	}
	r := newProps(p, at)
	r.str("Description", &s.Description)
	r.str("SecretString", &s.SecretString)
	if err := r.Err(); err != nil {
		return err
	}
	if _, ok := p["GenerateSecretString"].(map[string]any); ok {
		gp := at + ".GenerateSecretString"
		gen := &GenerateSecretString{PasswordLength: 32, RequireEachIncludedType: true}
		g := r.sub("GenerateSecretString")
		g.str("SecretStringTemplate", &gen.SecretStringTemplate)
		g.str("GenerateStringKey", &gen.GenerateStringKey)
		g.str("ExcludeCharacters", &gen.ExcludeCharacters)
		g.int("PasswordLength", &gen.PasswordLength)
		g.bool("ExcludeLowercase", &gen.ExcludeLowercase)
		g.bool("ExcludeNumbers", &gen.ExcludeNumbers)
		g.bool("ExcludePunctuation", &gen.ExcludePunctuation)
		g.bool("ExcludeUppercase", &gen.ExcludeUppercase)
		g.bool("IncludeSpace", &gen.IncludeSpace)
		g.bool("RequireEachIncludedType", &gen.RequireEachIncludedType)
		if err := g.Err(); err != nil {
			return err
		}
		if (gen.SecretStringTemplate == "") != (gen.GenerateStringKey == "") {
			return &Error{Path: gp, Err: fmt.Errorf("SecretStringTemplate and GenerateStringKey go together")}
		}
		s.Generate = gen
	}
	b.s.Secrets = append(b.s.Secrets, s)
	return nil
}

func (b *builder) functionURL(id string, res Resource) error {
	p := res.Properties
	at := "Resources." + id + ".Properties"
	u := FunctionURL{LogicalID: id, InvokeMode: "BUFFERED"}
	arn, err := stringOf(p["TargetFunctionArn"], at+".TargetFunctionArn")
	if err != nil {
		return err
	}
	if u.Function = b.byARN[arn]; u.Function == "" {
		// TargetFunctionArn may also be the function's name (its Ref).
		for fid, r := range b.s.Resources {
			if r.Type == "AWS::Serverless::Function" && b.r.nameOf[fid] == arn {
				u.Function = fid
			}
		}
	}
	if u.Function == "" {
		return &Error{Path: at + ".TargetFunctionArn", Err: fmt.Errorf("%s is not a function of the stack", arn)}
	}
	if u.URL, err = b.r.attribute(id, "FunctionUrl"); err != nil {
		return errAt("Resources."+id, err)
	}
	if u.AuthType, err = stringOf(p["AuthType"], at+".AuthType"); err != nil {
		return err
	}
	if v, ok := p["InvokeMode"]; ok {
		if u.InvokeMode, err = stringOf(v, at+".InvokeMode"); err != nil {
			return err
		}
	}
	b.s.FunctionURLs = append(b.s.FunctionURLs, u)
	return nil
}
