package stack_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/require"
)

// researchServer serves the research-agent example's MCP tools,
// research/web_search and research/fetch_page, over Streamable HTTP on
// loopback: a stand-in for a web search service, which these machines
// cannot reach, answering with a fixed result and page.
func researchServer(t testing.TB, calls *researchCalls) string {
	t.Helper()
	server := mcp.NewServer(&mcp.Implementation{Name: "research", Version: "1.0.0"}, nil)
	type searchIn struct {
		Query      string `json:"query"`
		MaxResults int    `json:"max_results,omitempty"`
	}
	type result struct {
		Title   string `json:"title"`
		URL     string `json:"url"`
		Snippet string `json:"snippet"`
	}
	type searchOut struct {
		Results []result `json:"results"`
	}
	mcp.AddTool(server, &mcp.Tool{Name: "web_search", Description: "Search the web.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in searchIn) (*mcp.CallToolResult, searchOut, error) {
			calls.search.Add(1)
			return nil, searchOut{Results: []result{{
				Title:   "Step Functions service quotas",
				URL:     "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html",
				Snippet: "Execution history retention: 90 days after an execution is closed.",
			}}}, nil
		})
	type fetchIn struct {
		URL string `json:"url"`
	}
	type fetchOut struct {
		URL  string `json:"url"`
		Text string `json:"text"`
	}
	mcp.AddTool(server, &mcp.Tool{Name: "fetch_page", Description: "Fetch a page's text.", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true}},
		func(_ context.Context, _ *mcp.CallToolRequest, in fetchIn) (*mcp.CallToolResult, fetchOut, error) {
			calls.fetch.Add(1)
			return nil, fetchOut{URL: in.URL, Text: "Execution history retention for Standard workflows: 90 days after an execution is closed."}, nil
		})
	srv := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil))
	t.Cleanup(srv.Close)
	return srv.URL
}

// researchConfig writes an MCP configuration file (AIFLOW_MCP_CONFIG) that
// adds the research server to the servers the template gives the ai step
// function (AIFLOW_MCP_SERVERS, the support desk).
func researchConfig(t testing.TB, calls *researchCalls) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mcp.yaml")
	require.NoError(t, os.WriteFile(path, fmt.Appendf(nil, "servers:\n  research:\n    urls: [%q]\n", researchServer(t, calls)), 0o600))
	return path
}

// researchCalls counts the calls of the research server's tools.
type researchCalls struct {
	search, fetch atomic.Int64
}
