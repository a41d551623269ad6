package httpapi_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/auth"
	"github.com/aiflow/aiflow/internal/workflow"
)

var diagLine = regexp.MustCompile(`^examples/invalid/[^:]+:(\d+:\d+): error: `)

// TestDryRunOfTheInvalidExamples publishes every example of
// examples/invalid with ?dry_run=true and the catalogs beside them (MCP
// tools and services): the API's errors are at the places `aiflow
// validate` reports (the .errors files).
func TestDryRunOfTheInvalidExamples(t *testing.T) {
	t.Parallel()
	var catalogs []*workflow.Catalog
	for _, name := range []string{"mcp-catalog.json", "service-catalog.json"} {
		raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "invalid", name))
		require.NoError(t, err)
		c, err := workflow.ParseCatalog(raw)
		require.NoError(t, err)
		catalogs = append(catalogs, c)
	}
	b := setupAPI(t, bundleOptions{catalog: workflow.MergeCatalogs(catalogs...)})
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "invalid", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		want, err := os.ReadFile(strings.TrimSuffix(f, ".yaml") + ".errors")
		require.NoError(t, err)
		var places []string
		for _, line := range strings.Split(string(want), "\n") {
			if m := diagLine.FindStringSubmatch(line); m != nil {
				places = append(places, "definition.yaml:"+m[1])
			}
		}
		resp, raw := b.call(t, auth.RoleAuthor, http.MethodPost, "/v1/workflows?dry_run=true", string(src), "Content-Type", "application/yaml")
		require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "%s: %s", f, raw)
		var got []string
		errs, ok := jsonOf(t, raw)["errors"].([]any)
		require.True(t, ok, "%s: %s", f, raw)
		for _, e := range errs {
			got = append(got, e.(map[string]any)["location"].(string))
		}
		require.Equal(t, places, got, f)
	}
}

// TestConcurrentDecisions: of two decisions sent at once, one resolves
// the step and the other is a 409.
func TestConcurrentDecisions(t *testing.T) {
	t.Parallel()
	b := setupAPI(t, bundleOptions{})
	b.publish(t, replyWorkflow)
	id := b.start(t, "reply", `{"message": "race"}`)
	approval := b.waitPending(t, id)
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			resp, _ := b.call(t, auth.RoleOperator, http.MethodPost, "/v1/approvals/"+approval["id"].(string), fmt.Sprintf(`{"approve": %t}`, i == 0))
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses)
	require.Equal(t, "SUCCEEDED", b.waitClosed(t, id)["status"])
}
