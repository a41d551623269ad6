package stack_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/examples/services/threatintel"
	"github.com/aiflow/aiflow/internal/registry"
)

// api is a client of the stack's HTTP API with the stack's admin token.
type api struct {
	t     testing.TB
	base  string
	token string
}

func (b *bundle) api(t testing.TB) *api {
	t.Helper()
	token, err := b.stack.Token("stack-test", []string{"admin"}, time.Hour)
	require.NoError(t, err)
	var base string
	for _, u := range b.stack.Endpoints().HTTPAPIs {
		base = u
	}
	require.NotEmpty(t, base, "the template has an HTTP API")
	return &api{t: t, base: base, token: token}
}

// do sends a request and decodes a JSON answer into out (when set),
// requiring the status want.
func (a *api) do(method, path, contentType string, body []byte, want int, out any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, bytes.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+a.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	require.Equal(a.t, want, resp.StatusCode, "%s %s answered %s", method, path, raw)
	if out != nil {
		require.NoError(a.t, json.Unmarshal(raw, out), "%s %s answered %s", method, path, raw)
	}
}

type execution struct {
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Status string `json:"status"`
	Error  any    `json:"error"`
}

// start starts an execution of a published workflow with input.
func (a *api) start(workflow string, input []byte) execution {
	a.t.Helper()
	body, err := json.Marshal(map[string]json.RawMessage{"input": input})
	require.NoError(a.t, err)
	var e execution
	a.do(http.MethodPost, "/v1/workflows/"+workflow+"/executions", "application/json", body, http.StatusCreated, &e)
	require.NotEmpty(a.t, e.ARN)
	return e
}

// wait waits until the execution is no longer running and returns it.
func (a *api) wait(e execution) execution {
	a.t.Helper()
	var got execution
	require.Eventually(a.t, func() bool {
		a.do(http.MethodGet, "/v1/executions/"+e.ID, "", nil, http.StatusOK, &got)
		return got.Status != "RUNNING"
	}, 3*time.Minute, 200*time.Millisecond, "execution %s still running", e.ID)
	return got
}

// TestStackRunsTheExamplesThroughTheHTTPAPI is the deployed shape, whole:
// the examples published through the HTTP API in front of the API
// function (its JWT authorizer trusting the stack's issuer), run on the
// engine with their steps in the real aistep and mcpstep binaries fed by
// their queues, an approval decided through the API (the API function fed
// by the approvals queue), an agent calling the support desk's MCP tools
// (the mcpserver binary behind its function URL), and the histories in the
// event store as the recorder wrote them, and incident-enrichment's
// service steps in the servicestep binary calling the example services
// the registry (through the API function) knows and the health check
// function found healthy.
func TestStackRunsTheExamplesThroughTheHTTPAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.api(t)

	// No token, no entry: the authorizer answers, not the function.
	req, err := http.NewRequest(http.MethodGet, a.base+"/v1/workflows", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	for _, name := range []string{"document-summary", "support-triage", "research-agent"} {
		def, err := os.ReadFile(filepath.Join(b.root, "examples", name+".yaml"))
		require.NoError(t, err)
		a.do(http.MethodPost, "/v1/workflows", "application/yaml", def, http.StatusCreated, nil)
	}
	// The example services, served by this test on loopback and registered
	// through the API (as internal instances, which only an admin may
	// register); the health check function turns them healthy. The copy of
	// incident-enrichment published waits a second where the example waits
	// minutes.
	for _, svc := range []struct {
		reg     registry.Service
		handler http.Handler
	}{{threatintel.Service(), threatintel.Handler()}, {incidentdesk.Service(), incidentdesk.Handler()}} {
		srv := httptest.NewServer(svc.handler)
		t.Cleanup(srv.Close)
		svc.reg.Instances = []registry.Instance{{ID: "test", Endpoint: srv.URL, Internal: true}}
		body, err := json.Marshal(svc.reg)
		require.NoError(t, err)
		a.do(http.MethodPost, "/v1/services", "application/json", body, http.StatusCreated, nil)
	}
	enrichment, err := os.ReadFile(filepath.Join(b.root, "examples", "incident-enrichment.yaml"))
	require.NoError(t, err)
	a.do(http.MethodPost, "/v1/workflows", "application/yaml",
		regexp.MustCompile(`duration: \d+m`).ReplaceAll(enrichment, []byte("duration: 1s")), http.StatusCreated, nil)

	input := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join(b.root, "examples", "mocks", name+".input.json"))
		require.NoError(t, err)
		return raw
	}
	summary := a.start("document-summary", input("document-summary"))
	require.Eventually(t, func() bool {
		var list struct {
			Items []registry.Service `json:"items"`
		}
		a.do(http.MethodGet, "/v1/services", "", nil, http.StatusOK, &list)
		healthy := 0
		for _, svc := range list.Items {
			for _, in := range svc.Instances {
				if in.Status == registry.StatusHealthy {
					healthy++
				}
			}
		}
		return healthy == 2
	}, 2*time.Minute, 200*time.Millisecond, "the health check function did not find the example services healthy")
	incident := a.start("incident-enrichment", input("incident-enrichment"))
	agent := a.start("research-agent", input("research-agent"))
	// A refund above the approval threshold waits for a person.
	triage := a.start("support-triage", []byte(`{"message": "I was charged twice for order 1114, please refund me.", "customer_email": "m.hamilton@example.com", "order_id": 1114, "channel": "web"}`))

	var approvals struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	require.Eventually(t, func() bool {
		a.do(http.MethodGet, "/v1/approvals?execution="+triage.ID, "", nil, http.StatusOK, &approvals)
		return len(approvals.Items) == 1
	}, 3*time.Minute, 200*time.Millisecond, "no approval appeared for the support-triage execution")
	a.do(http.MethodPost, "/v1/approvals/"+approvals.Items[0].ID, "application/json",
		[]byte(`{"approve": true, "comment": "Charged twice: refund it."}`), http.StatusOK, nil)

	for _, e := range []execution{summary, agent, triage, incident} {
		got := a.wait(e)
		require.Equal(t, "SUCCEEDED", got.Status, "%s failed: %v", e.ARN, got.Error)
		b.requireRecorded(t, e.ARN, "ExecutionSucceeded")
	}
	// The agent called the research server's tools from inside the ai
	// step function, and its history holds its task.
	require.Positive(t, b.research.search.Load(), "the agent searched")
	require.Positive(t, b.research.fetch.Load(), "the agent read a page")
	var history struct {
		Items []map[string]any `json:"items"`
	}
	a.do(http.MethodGet, "/v1/executions/"+agent.ID+"/events?limit=100", "", nil, http.StatusOK, &history)
	raw, err := json.Marshal(history.Items)
	require.NoError(t, err)
	require.Contains(t, string(raw), "TaskSucceeded")
}
