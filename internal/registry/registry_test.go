package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/registrytest"
)

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	registrytest.Run(t, func(*testing.T) registry.Store { return registry.NewMemoryStore() })
}

func TestNewNeedsAStore(t *testing.T) {
	t.Parallel()
	_, err := registry.New(registry.Config{})
	require.Error(t, err)
}

func TestValidation(t *testing.T) {
	t.Parallel()
	bigMeta := map[string]string{}
	for i := range registry.MaxMetadataEntries + 1 {
		bigMeta[strings.Repeat("k", i+1)] = "v"
	}
	for _, tc := range []struct {
		name   string
		change func(s *registry.Service)
		want   []registry.Problem // pointers and detail fragments
	}{
		{"name upper case", func(s *registry.Service) { s.Name = "Threat" }, []registry.Problem{{Pointer: "/name", Detail: "lowercase"}}},
		{"name starts with a digit", func(s *registry.Service) { s.Name = "1intel" }, []registry.Problem{{Pointer: "/name"}}},
		{"name too long", func(s *registry.Service) { s.Name = "a" + strings.Repeat("b", 63) }, []registry.Problem{{Pointer: "/name"}}},
		{"version partial", func(s *registry.Service) { s.Version = "1.2" }, []registry.Problem{{Pointer: "/version", Detail: "not a semantic version"}}},
		{"version empty", func(s *registry.Service) { s.Version = "" }, []registry.Problem{{Pointer: "/version"}}},
		{"capability not dotted", func(s *registry.Service) { s.Capabilities = []string{"reputation"} }, []registry.Problem{{Pointer: "/capabilities/0", Detail: "dotted"}}},
		{"capability upper case", func(s *registry.Service) { s.Capabilities = []string{"ip.Reputation"} }, []registry.Problem{{Pointer: "/capabilities/0"}}},
		{"capability twice", func(s *registry.Service) { s.Capabilities = []string{"ip.a", "ip.a"} }, []registry.Problem{{Pointer: "/capabilities/1", Detail: "repeats"}}},
		{"no operation", func(s *registry.Service) { s.Operations = nil }, []registry.Problem{{Pointer: "/operations", Detail: "at least one"}}},
		{"operation name", func(s *registry.Service) { s.Operations[0].Name = "Get Reputation" }, []registry.Problem{{Pointer: "/operations/0/name"}}},
		{"operation name twice", func(s *registry.Service) { s.Operations[1].Name = "reputation" }, []registry.Problem{{Pointer: "/operations/1/name", Detail: "repeats"}}},
		{"method", func(s *registry.Service) { s.Operations[0].Method = "HEAD" }, []registry.Problem{{Pointer: "/operations/0/method"}}},
		{"route twice, other parameter names", func(s *registry.Service) {
			s.Operations[1].Path = "/v1/ip/{address}/reputation"
		}, []registry.Problem{{Pointer: "/operations/1/path", Detail: "route of operation 0"}}},
		{"path without slash", func(s *registry.Service) { s.Operations[0].Path = "v1/ip" }, []registry.Problem{{Pointer: "/operations/0/path", Detail: "does not start with /"}}},
		{"path with query", func(s *registry.Service) { s.Operations[0].Path = "/v1/ip?x=1" }, []registry.Problem{{Pointer: "/operations/0/path"}}},
		{"request schema not JSON", func(s *registry.Service) { s.Operations[2].RequestSchema = json.RawMessage(`{"type":`) }, []registry.Problem{{Pointer: "/operations/2/request_schema"}}},
		{"response schema invalid", func(s *registry.Service) { s.Operations[0].ResponseSchema = json.RawMessage(`{"type": "integral"}`) }, []registry.Problem{{Pointer: "/operations/0/response_schema", Detail: "not a valid JSON Schema"}}},
		{"operation timeout", func(s *registry.Service) { s.Operations[0].TimeoutSeconds = -1 }, []registry.Problem{{Pointer: "/operations/0/timeout_seconds"}}},
		{"auth type", func(s *registry.Service) { s.Auth.Type = "basic" }, []registry.Problem{{Pointer: "/auth/type"}}},
		{"auth secret", func(s *registry.Service) { s.Auth.Secret = "" }, []registry.Problem{{Pointer: "/auth/secret"}}},
		{"auth header missing", func(s *registry.Service) { s.Auth.Header = "" }, []registry.Problem{{Pointer: "/auth/header"}}},
		{"auth header reserved", func(s *registry.Service) { s.Auth.Header = "Host" }, []registry.Problem{{Pointer: "/auth/header", Detail: "sets itself"}}},
		{"auth header for bearer", func(s *registry.Service) { s.Auth.Type = "bearer" }, []registry.Problem{{Pointer: "/auth/header"}}},
		{"health path", func(s *registry.Service) { s.HealthCheck.Path = "healthz" }, []registry.Problem{{Pointer: "/health_check/path"}}},
		{"health status", func(s *registry.Service) { s.HealthCheck.ExpectedStatus = 600 }, []registry.Problem{{Pointer: "/health_check/expected_status"}}},
		{"health interval", func(s *registry.Service) { s.HealthCheck.IntervalSeconds = 4000 }, []registry.Problem{{Pointer: "/health_check/interval_seconds"}}},
		{"health timeout over interval", func(s *registry.Service) {
			s.HealthCheck.IntervalSeconds, s.HealthCheck.TimeoutSeconds = 2, 5
		}, []registry.Problem{{Pointer: "/health_check/timeout_seconds", Detail: "interval"}}},
		{"health thresholds", func(s *registry.Service) {
			s.HealthCheck.HealthyThreshold, s.HealthCheck.UnhealthyThreshold = -1, 11
		}, []registry.Problem{{Pointer: "/health_check/healthy_threshold"}, {Pointer: "/health_check/unhealthy_threshold"}}},
		{"balancing", func(s *registry.Service) { s.Balancing = "random" }, []registry.Problem{{Pointer: "/balancing"}}},
		{"metadata entries", func(s *registry.Service) { s.Metadata = bigMeta }, []registry.Problem{{Pointer: "/metadata", Detail: "more than"}}},
		{"metadata key", func(s *registry.Service) { s.Metadata = map[string]string{"a b": "c"} }, []registry.Problem{{Pointer: "/metadata/a b"}}},
		{"metadata value", func(s *registry.Service) {
			s.Metadata = map[string]string{"a/b": strings.Repeat("x", registry.MaxMetadataValueByte+1)}
		}, []registry.Problem{{Pointer: "/metadata/a~1b", Detail: "more than"}}},
		{"description NUL", func(s *registry.Service) { s.Description = "a\x00b" }, []registry.Problem{{Pointer: "/description"}}},
		{"instance id", func(s *registry.Service) { s.Instances[0].ID = "-a" }, []registry.Problem{{Pointer: "/instances/0/id"}}},
		{"instance id twice", func(s *registry.Service) { s.Instances[1].ID = s.Instances[0].ID }, []registry.Problem{{Pointer: "/instances/1/id", Detail: "repeats"}}},
		{"instance neither", func(s *registry.Service) { s.Instances[0].Endpoint = "" }, []registry.Problem{{Pointer: "/instances/0", Detail: "endpoint or a function_arn"}}},
		{"instance both", func(s *registry.Service) { s.Instances[1].Endpoint = "https://x.example" }, []registry.Problem{{Pointer: "/instances/1", Detail: "not both"}}},
		{"endpoint scheme", func(s *registry.Service) { s.Instances[0].Endpoint = "ftp://x.example" }, []registry.Problem{{Pointer: "/instances/0/endpoint", Detail: "http or https"}}},
		{"endpoint relative", func(s *registry.Service) { s.Instances[0].Endpoint = "/v1" }, []registry.Problem{{Pointer: "/instances/0/endpoint"}}},
		{"endpoint userinfo", func(s *registry.Service) { s.Instances[0].Endpoint = "https://u:p@x.example" }, []registry.Problem{{Pointer: "/instances/0/endpoint", Detail: "user information"}}},
		{"endpoint query", func(s *registry.Service) { s.Instances[0].Endpoint = "https://x.example/?a=1" }, []registry.Problem{{Pointer: "/instances/0/endpoint", Detail: "query"}}},
		{"endpoint fragment", func(s *registry.Service) { s.Instances[0].Endpoint = "https://x.example/#top" }, []registry.Problem{{Pointer: "/instances/0/endpoint", Detail: "fragment"}}},
		{"endpoint port", func(s *registry.Service) { s.Instances[0].Endpoint = "https://x.example:70000" }, []registry.Problem{{Pointer: "/instances/0/endpoint"}}},
		{"function arn", func(s *registry.Service) { s.Instances[1].FunctionARN = "arn:aws:lambda:us-east-1:123:function:x" }, []registry.Problem{{Pointer: "/instances/1/function_arn"}}},
		{"function arn of a layer", func(s *registry.Service) {
			s.Instances[1].FunctionARN = "arn:aws:lambda:us-east-1:123456789012:layer:x:1"
		}, []registry.Problem{{Pointer: "/instances/1/function_arn"}}},
		{"weight", func(s *registry.Service) { s.Instances[0].Weight = 1001 }, []registry.Problem{{Pointer: "/instances/0/weight"}}},
		{"ttl short", func(s *registry.Service) { s.Instances[0].TTLSeconds = 4 }, []registry.Problem{{Pointer: "/instances/0/ttl_seconds"}}},
		{"ttl long", func(s *registry.Service) { s.Instances[0].TTLSeconds = 3601 }, []registry.Problem{{Pointer: "/instances/0/ttl_seconds"}}},
		{"zone", func(s *registry.Service) { s.Instances[0].Zone = "eu west" }, []registry.Problem{{Pointer: "/instances/0/zone"}}},
		{"instance of another service", func(s *registry.Service) { s.Instances[0].Service = "other" }, []registry.Problem{{Pointer: "/instances/0/service"}}},
		{"instance of another version", func(s *registry.Service) { s.Instances[0].Version = "9.9.9" }, []registry.Problem{{Pointer: "/instances/0/version"}}},
		{"every problem at once", func(s *registry.Service) {
			s.Version, s.Operations[0].Method, s.Instances[0].Weight = "x", "TRACE", -5
		}, []registry.Problem{{Pointer: "/version"}, {Pointer: "/operations/0/method"}, {Pointer: "/instances/0/weight"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
			require.NoError(t, err)
			s := registrytest.Service("threat-intel", "1.2.0")
			s.Instances = []registry.Instance{
				registrytest.Endpoint("threat-intel", "1.2.0", "a"),
				{ID: "b", FunctionARN: "arn:aws:lambda:us-east-1:123456789012:function:threat-intel"},
			}
			tc.change(&s)
			_, err = r.RegisterService(context.Background(), registrytest.Admin, s)
			var verr *registry.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Problems, len(tc.want), "%+v", verr.Problems)
			for i, w := range tc.want {
				require.Equal(t, w.Pointer, verr.Problems[i].Pointer)
				require.Contains(t, verr.Problems[i].Detail, w.Detail)
			}
			_, err = r.Get(context.Background(), "threat-intel")
			require.ErrorIs(t, err, registry.ErrNotFound, "nothing invalid is written")
		})
	}
}

func TestValidRegistrationsPass(t *testing.T) {
	t.Parallel()
	r, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	s := registrytest.Service("threat-intel", "1.2.0-rc.1+build.7")
	s.Auth = &registry.Auth{Type: "bearer", Secret: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ti-AbCdEf"}
	s.Balancing = registry.BalancingLeastOutstanding
	s.Instances = []registry.Instance{
		{ID: "host-1.example:8080", Endpoint: "http://[2001:db8::1]:8080/base/", Weight: 1000, TTLSeconds: 5},
		{ID: "fn", FunctionARN: "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:ti:$LATEST", Weight: 1, TTLSeconds: 3600},
		{ID: "alias", FunctionARN: "arn:aws:lambda:eu-west-1:123456789012:function:ti:live"},
	}
	got, err := r.RegisterService(context.Background(), registrytest.Admin, s)
	require.NoError(t, err)
	require.Equal(t, "1.2.0-rc.1+build.7", got.Version)
	require.Equal(t, "http://[2001:db8::1]:8080/base", got.Instances[2].Endpoint)
}

func TestCheckEndpointFunc(t *testing.T) {
	t.Parallel()
	var asked []string
	r, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), CheckEndpointFunc: func(endpoint string, internal bool) error {
		asked = append(asked, endpoint)
		if strings.Contains(endpoint, "10.0.0.1") && !internal {
			return errors.New("the address 10.0.0.1 is private")
		}
		return nil
	}})
	require.NoError(t, err)
	s := registrytest.Service("svc", "1.0.0")
	in := registrytest.Endpoint("svc", "1.0.0", "a")
	in.Endpoint = "http://10.0.0.1"
	s.Instances = []registry.Instance{in}
	_, err = r.RegisterService(context.Background(), registrytest.Admin, s)
	var verr *registry.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, []registry.Problem{{Pointer: "/instances/0/endpoint", Detail: "the address 10.0.0.1 is private"}}, verr.Problems)
	s.Instances[0].Internal = true
	_, err = r.RegisterService(context.Background(), registrytest.Admin, s)
	require.NoError(t, err)
	in.ID = "b"
	_, err = r.RegisterInstance(context.Background(), registrytest.Admin, in)
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "/endpoint", verr.Problems[0].Pointer)
	require.Equal(t, []string{"http://10.0.0.1", "http://10.0.0.1", "http://10.0.0.1"}, asked)
}

type feed struct{ got []registry.Event }

func (f *feed) AppendEvents(_ context.Context, stream string, evs []registry.Event) error {
	if stream != "service-fed" {
		return errors.New("wrong stream " + stream)
	}
	f.got = append(f.got, evs...)
	return errors.New("the feed is down, which changes nothing")
}

func TestEventFeed(t *testing.T) {
	t.Parallel()
	f := &feed{}
	r, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), Events: f})
	require.NoError(t, err)
	_, err = r.RegisterService(context.Background(), registrytest.Admin, registrytest.Service("fed", "1.0.0"))
	require.NoError(t, err)
	require.Len(t, f.got, 1)
	require.Equal(t, registry.EventServiceRegistered, f.got[0].Type)
}

// TestEffective reads a listing again later, as a router keeping it
// would: the missed heartbeat shows without another read.
func TestEffective(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := registry.New(registry.Config{Store: registry.NewMemoryStore(), NowFunc: func() time.Time { return registrytest.T0 }})
	require.NoError(t, err)
	svc := registrytest.Unchecked("eff", "1.0.0")
	svc.Instances = []registry.Instance{registrytest.Endpoint("eff", "1.0.0", "a")}
	got, err := r.RegisterService(ctx, registrytest.Admin, svc)
	require.NoError(t, err)
	in := got.Instances[0]
	require.Equal(t, registry.StatusHealthy, registry.Effective(got, in, registrytest.T0.Add(30*time.Second)).Status)
	late := registry.Effective(got, in, registrytest.T0.Add(31*time.Second))
	require.Equal(t, registry.StatusUnhealthy, late.Status)
	require.Equal(t, registry.ReasonHeartbeatExpired, late.StatusReason)
}

// TestDocumentedRegistration registers the example of docs/services.md.
func TestDocumentedRegistration(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "services.md"))
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)### A registration\n.*?```json\n(.*?)```").FindSubmatch(raw)
	require.NotNil(t, m, "docs/services.md shows a registration")
	var s registry.Service
	dec := json.NewDecoder(strings.NewReader(string(m[1])))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&s))
	r, err := registry.New(registry.Config{Store: registry.NewMemoryStore()})
	require.NoError(t, err)
	got, err := r.RegisterService(context.Background(), registrytest.Admin, s)
	require.NoError(t, err)
	require.Len(t, got.Instances, 2)
}
