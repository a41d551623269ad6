package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aiflow/aiflow/internal/pathtemplate"
	"github.com/aiflow/aiflow/internal/schema"
	"github.com/aiflow/aiflow/internal/semver"
	"github.com/aiflow/aiflow/internal/textgate"
)

// The defaults the registry fills in.
const (
	DefaultWeight             = 100
	DefaultTTLSeconds         = 30
	DefaultExpectedStatus     = 200
	DefaultIntervalSeconds    = 10
	DefaultCheckTimeout       = 2
	DefaultHealthyThreshold   = 2
	DefaultUnhealthyThreshold = 3
)

// The limits of a registration.
const (
	MaxNameLength        = 63
	MaxDescriptionBytes  = 2048
	MaxCapabilities      = 64
	MaxOperations        = 256
	MaxInstances         = 256
	MaxMetadataEntries   = 32
	MaxMetadataKeyBytes  = 63
	MaxMetadataValueByte = 512
	MaxSchemaBytes       = 256 << 10
	MaxWeight            = 1000
	MinTTLSeconds        = 5
	MaxTTLSeconds        = 3600
	MaxOperationTimeout  = 900
)

var (
	nameRE        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	capabilityRE  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	operationRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	instanceIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	metadataKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$`)
	secretRE      = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:-]{1,1000}$`)
	headerRE      = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+.^_` + "`" + `|~-]{1,64}$`)
	zoneRE        = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	// functionARNRE is a Lambda function's ARN, unqualified or with a
	// version or alias.
	functionARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$`)
)

// headers a service's auth may not set: the request's framing and the
// step's own.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "content-type": true, "transfer-encoding": true,
	"connection": true, "te": true, "trailer": true, "upgrade": true, "keep-alive": true,
	"proxy-authorization": true, "proxy-connection": true, "idempotency-key": true, "cookie": true,
}

// problems collects what is wrong.
type problems []Problem

func (p *problems) add(pointer, format string, args ...any) {
	*p = append(*p, Problem{Pointer: pointer, Detail: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

// normalizeService validates s, fills in its defaults and normalises its
// version and instances, listing every problem under the pointer prefix
// at ("" for a whole registration).
func normalizeService(s *Service, ps *problems) {
	nameOK := nameRE.MatchString(s.Name)
	if !nameOK {
		ps.add("/name", "must be lowercase letters, digits and hyphens, start with a letter and have at most %d characters", MaxNameLength)
	}
	versionOK := false
	if v, err := semver.Normalize(s.Version); err != nil {
		ps.add("/version", "%s", err.Error())
	} else {
		s.Version, versionOK = v, true
	}
	checkText(ps, "/description", s.Description, MaxDescriptionBytes)
	if len(s.Capabilities) > MaxCapabilities {
		ps.add("/capabilities", "has %d capabilities, more than %d", len(s.Capabilities), MaxCapabilities)
	}
	seenCap := map[string]bool{}
	for i, c := range s.Capabilities {
		switch {
		case !capabilityRE.MatchString(c) || len(c) > 128:
			ps.add(fmt.Sprintf("/capabilities/%d", i), "must be dotted lowercase names (ip.reputation), at most 128 characters")
		case seenCap[c]:
			ps.add(fmt.Sprintf("/capabilities/%d", i), "repeats %q", c)
		}
		seenCap[c] = true
	}
	checkMetadata(ps, "/metadata", s.Metadata)
	normalizeOperations(s, ps)
	normalizeAuth(s.Auth, ps)
	normalizeHealthCheck(s.HealthCheck, ps)
	switch s.Balancing {
	case "":
		s.Balancing = BalancingRoundRobin
	case BalancingRoundRobin, BalancingLeastOutstanding, BalancingWeighted:
	default:
		ps.add("/balancing", "must be round_robin, least_outstanding or weighted")
	}
	if len(s.Instances) > MaxInstances {
		ps.add("/instances", "has %d instances, more than %d", len(s.Instances), MaxInstances)
	}
	seenID := map[string]bool{}
	for i := range s.Instances {
		in := &s.Instances[i]
		at := fmt.Sprintf("/instances/%d", i)
		if in.Service == "" {
			in.Service = s.Name
		} else if in.Service != s.Name && nameOK {
			ps.add(at+"/service", "names %q, not the service registered", in.Service)
		}
		if in.Version == "" {
			in.Version = s.Version
		} else if v, err := semver.Normalize(in.Version); versionOK && (err != nil || v != s.Version) {
			ps.add(at+"/version", "names %q, not the version registered", in.Version)
		} else {
			in.Version = v
		}
		normalizeInstance(in, at, ps)
		if in.ID != "" {
			if seenID[in.ID] {
				ps.add(at+"/id", "repeats the id %q", in.ID)
			}
			seenID[in.ID] = true
		}
	}
}

func normalizeOperations(s *Service, ps *problems) {
	if len(s.Operations) == 0 {
		ps.add("/operations", "must list at least one operation")
	}
	if len(s.Operations) > MaxOperations {
		ps.add("/operations", "has %d operations, more than %d", len(s.Operations), MaxOperations)
	}
	names := map[string]int{}
	routes := map[string]int{}
	for i := range s.Operations {
		op := &s.Operations[i]
		at := fmt.Sprintf("/operations/%d", i)
		if !operationRE.MatchString(op.Name) {
			ps.add(at+"/name", "must be lowercase letters, digits and underscores, start with a letter and have at most 64 characters")
		} else if j, dup := names[op.Name]; dup {
			ps.add(at+"/name", "repeats the name of operation %d, %q", j, op.Name)
		} else {
			names[op.Name] = i
		}
		op.Method = strings.ToUpper(op.Method)
		switch op.Method {
		case "GET", "POST", "PUT", "PATCH", "DELETE":
		default:
			ps.add(at+"/method", "must be GET, POST, PUT, PATCH or DELETE")
		}
		if t, err := pathtemplate.Parse(op.Path); err != nil {
			ps.add(at+"/path", "%s", err.Error())
		} else {
			route := op.Method + " " + routeKey(t)
			if j, dup := routes[route]; dup {
				ps.add(at+"/path", "%s %s is the route of operation %d already", op.Method, op.Path, j)
			} else {
				routes[route] = i
			}
		}
		op.RequestSchema = checkSchema(ps, at+"/request_schema", s.Name+"/"+op.Name+"/request", op.RequestSchema)
		op.ResponseSchema = checkSchema(ps, at+"/response_schema", s.Name+"/"+op.Name+"/response", op.ResponseSchema)
		if op.TimeoutSeconds < 0 || op.TimeoutSeconds > MaxOperationTimeout {
			ps.add(at+"/timeout_seconds", "must be 0 (the step's timeout) to %d", MaxOperationTimeout)
		}
	}
}

// routeKey is a template with its parameters' names left out, so that two
// templates that match the same paths have the same key.
func routeKey(t *pathtemplate.Template) string {
	segs := strings.Split(t.String(), "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") {
			segs[i] = "{}"
		}
	}
	return strings.Join(segs, "/")
}

// checkSchema compiles a schema, returning it compacted.
func checkSchema(ps *problems, at, name string, raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if len(raw) > MaxSchemaBytes {
		ps.add(at, "is %d bytes, more than %d", len(raw), MaxSchemaBytes)
		return raw
	}
	if err := textgate.JSON(raw); err != nil {
		ps.add(at, "%s", err.Error())
		return raw
	}
	if _, err := schema.Compile("registry:"+name, raw); err != nil {
		ps.add(at, "is not a valid JSON Schema: %s", err.Error())
		return raw
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		ps.add(at, "is not JSON: %s", err.Error())
		return raw
	}
	return b.Bytes()
}

func normalizeAuth(a *Auth, ps *problems) {
	if a == nil {
		return
	}
	if !secretRE.MatchString(a.Secret) {
		ps.add("/auth/secret", "must name a secret (its name or ARN): letters, digits and /_+=.@:-")
	}
	switch a.Type {
	case "bearer":
		if a.Header != "" {
			ps.add("/auth/header", "must be empty for type bearer, which sets Authorization")
		}
	case "header":
		switch {
		case !headerRE.MatchString(a.Header):
			ps.add("/auth/header", "must be a header name (X-Api-Key)")
		case reservedHeaders[strings.ToLower(a.Header)]:
			ps.add("/auth/header", "names %s, which the service step sets itself", a.Header)
		}
	default:
		ps.add("/auth/type", "must be bearer or header")
	}
}

func normalizeHealthCheck(h *HealthCheck, ps *problems) {
	if h == nil {
		return
	}
	if !strings.HasPrefix(h.Path, "/") || strings.HasPrefix(h.Path, "//") {
		ps.add("/health_check/path", "must be a path starting with /")
	} else if u, err := url.Parse(h.Path); err != nil || u.Scheme != "" || u.Host != "" || u.Fragment != "" || u.User != nil {
		ps.add("/health_check/path", "must be a path (and query) without scheme, host or fragment")
	}
	if err := textgate.String(h.Path); err != nil {
		ps.add("/health_check/path", "%s", err.Error())
	}
	fill := func(v *int, def, low, high int, field string) {
		if *v == 0 {
			*v = def
		}
		if *v < low || *v > high {
			ps.add("/health_check/"+field, "must be %d to %d", low, high)
		}
	}
	fill(&h.ExpectedStatus, DefaultExpectedStatus, 100, 599, "expected_status")
	fill(&h.IntervalSeconds, DefaultIntervalSeconds, 1, 3600, "interval_seconds")
	fill(&h.TimeoutSeconds, DefaultCheckTimeout, 1, 60, "timeout_seconds")
	fill(&h.HealthyThreshold, DefaultHealthyThreshold, 1, 10, "healthy_threshold")
	fill(&h.UnhealthyThreshold, DefaultUnhealthyThreshold, 1, 10, "unhealthy_threshold")
	if h.TimeoutSeconds > h.IntervalSeconds && h.IntervalSeconds >= 1 {
		ps.add("/health_check/timeout_seconds", "must not exceed interval_seconds (%d)", h.IntervalSeconds)
	}
}

// normalizeInstance validates an instance's own fields and fills in its
// defaults; at is its pointer.
func normalizeInstance(in *Instance, at string, ps *problems) {
	if in.ID != "" && !instanceIDRE.MatchString(in.ID) {
		ps.add(at+"/id", "must be 1 to 128 letters, digits and ._:- starting with a letter or digit")
	}
	switch {
	case in.Endpoint == "" && in.FunctionARN == "":
		ps.add(at, "must have an endpoint or a function_arn")
	case in.Endpoint != "" && in.FunctionARN != "":
		ps.add(at, "must have an endpoint or a function_arn, not both")
	case in.Endpoint != "":
		if e, err := normalizeEndpoint(in.Endpoint); err != nil {
			ps.add(at+"/endpoint", "%s", err.Error())
		} else {
			in.Endpoint = e
		}
	default:
		if !functionARNRE.MatchString(in.FunctionARN) {
			ps.add(at+"/function_arn", "must be a Lambda function's ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME, with an optional :VERSION or :ALIAS)")
		}
	}
	if in.Weight == 0 {
		in.Weight = DefaultWeight
	}
	if in.Weight < 1 || in.Weight > MaxWeight {
		ps.add(at+"/weight", "must be 1 to %d (0 means %d)", MaxWeight, DefaultWeight)
	}
	if in.TTLSeconds == 0 {
		in.TTLSeconds = DefaultTTLSeconds
	}
	if in.TTLSeconds < MinTTLSeconds || in.TTLSeconds > MaxTTLSeconds {
		ps.add(at+"/ttl_seconds", "must be %d to %d (0 means %d)", MinTTLSeconds, MaxTTLSeconds, DefaultTTLSeconds)
	}
	if in.Zone != "" && !zoneRE.MatchString(in.Zone) {
		ps.add(at+"/zone", "must be 1 to 63 letters, digits and ._- (eu-west-1a)")
	}
	checkMetadata(ps, at+"/metadata", in.Metadata)
}

// normalizeEndpoint checks an instance's base URL: absolute http or https,
// a host, no user info, query or fragment. It returns it without a
// trailing slash, so that the endpoint and an operation's path join.
func normalizeEndpoint(raw string) (string, error) {
	if err := textgate.String(raw); err != nil {
		return "", err
	}
	if len(raw) > 2048 {
		return "", fmt.Errorf("is %d bytes, more than 2048", len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("is not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("must be an absolute http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("has no host")
	case u.User != nil:
		return "", fmt.Errorf("must not hold user information; give credentials with the service's auth")
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("must not have a query")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("must not have a fragment")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("has port %q, not 1 to 65535", p)
		}
	}
	return strings.TrimRight(raw, "/"), nil
}

func checkText(ps *problems, at, s string, limit int) {
	if len(s) > limit {
		ps.add(at, "is %d bytes, more than %d", len(s), limit)
	}
	if err := textgate.String(s); err != nil {
		ps.add(at, "%s", err.Error())
	}
}

func checkMetadata(ps *problems, at string, md map[string]string) {
	if len(md) > MaxMetadataEntries {
		ps.add(at, "has %d entries, more than %d", len(md), MaxMetadataEntries)
	}
	for _, k := range slices.Sorted(maps.Keys(md)) {
		p := at + "/" + escapePointer(textgate.Clean(k))
		if !metadataKeyRE.MatchString(k) {
			ps.add(p, "the key must be 1 to %d letters, digits and ._/- starting with a letter or digit", MaxMetadataKeyBytes)
		}
		checkText(ps, p, md[k], MaxMetadataValueByte)
	}
}

// escapePointer escapes a JSON pointer's reference token (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
