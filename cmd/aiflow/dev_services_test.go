package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// TestDevRunsIncidentEnrichmentThroughTheAPI: aiflow dev serves the
// example services, registers them, checks their health, and the
// incident-enrichment example runs to SUCCEEDED through the API, its
// service steps calling them. The copy published here waits a second
// where the example waits minutes: aiflow dev runs on real time (it takes
// no --skip-waits; see docs/local-engine.md, "Skipping waits"), while
// TestRunCallsTheExampleServices runs the example itself in aiflow run.
func TestDevRunsIncidentEnrichmentThroughTheAPI(t *testing.T) {
	t.Parallel()
	bin := buildAiflow(t)
	dataDir := filepath.Join(pgclustertest.ReachableTempDir(t), ".aiflow")
	p, base := startDev(t, bin, dataDir)
	token, err := os.ReadFile(filepath.Join(dataDir, "dev-token"))
	require.NoError(t, err)
	call := func(method, path, contentType string, body []byte, want int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		return raw
	}

	// The services are registered; their health checks make them healthy.
	require.Eventually(t, func() bool {
		var list struct {
			Items []struct {
				Name      string `json:"name"`
				Instances []struct {
					Status string `json:"status"`
				} `json:"instances"`
			} `json:"items"`
		}
		require.NoError(t, json.Unmarshal(call(http.MethodGet, "/v1/services", "", nil, http.StatusOK), &list))
		healthy := map[string]bool{}
		for _, s := range list.Items {
			for _, in := range s.Instances {
				healthy[s.Name] = healthy[s.Name] || in.Status == "healthy"
			}
		}
		return healthy["threat-intel"] && healthy["incident-desk"]
	}, time.Minute, 200*time.Millisecond, "the example services did not turn healthy")

	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", "incident-enrichment.yaml"))
	require.NoError(t, err)
	def := regexp.MustCompile(`duration: \d+m`).ReplaceAllString(string(src), "duration: 1s")
	call(http.MethodPost, "/v1/workflows", "application/yaml", []byte(def), http.StatusCreated)
	input, err := os.ReadFile(filepath.Join(repoRoot, "examples", "mocks", "incident-enrichment.input.json"))
	require.NoError(t, err)
	var started struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(call(http.MethodPost, "/v1/workflows/incident-enrichment/executions", "application/json",
		[]byte(`{"input": `+string(input)+`}`), http.StatusCreated), &started))

	var exec struct {
		Status string         `json:"status"`
		Output map[string]any `json:"output"`
		Error  any            `json:"error"`
	}
	require.Eventually(t, func() bool {
		require.NoError(t, json.Unmarshal(call(http.MethodGet, "/v1/executions/"+started.ID, "", nil, http.StatusOK), &exec))
		return exec.Status != "RUNNING"
	}, 2*time.Minute, 200*time.Millisecond)
	require.Equal(t, "SUCCEEDED", exec.Status, "error: %v", exec.Error)
	require.Equal(t, "malicious", exec.Output["verdict"])
	require.Equal(t, "critical", exec.Output["cve_severity"])
	require.Equal(t, true, exec.Output["escalated"], "the incident was still firing, so it was escalated")

	p.interrupt(t)
}
