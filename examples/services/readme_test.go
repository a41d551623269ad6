package services_test

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/examples/services/threatintel"
)

// TestREADMECurlExamples runs every curl command of README.md against the
// two services served on loopback, in order, and compares each answer with
// the one the README shows (a time the desk stamps is compared by its
// presence only).
func TestREADMECurlExamples(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the README's examples need curl")
	}
	intel := httptest.NewServer(threatintel.Handler())
	t.Cleanup(intel.Close)
	desk := httptest.NewServer(incidentdesk.Handler())
	t.Cleanup(desk.Close)

	raw, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```console\n(.*?)```").FindAllStringSubmatch(string(raw), -1)
	require.NotEmpty(t, blocks)
	n := 0
	for _, b := range blocks {
		for _, ex := range strings.Split(strings.TrimSpace(b[1]), "\n\n") {
			lines := strings.Split(ex, "\n")
			var cmd []string
			i := 0
			for ; i < len(lines); i++ {
				line := strings.TrimPrefix(lines[i], "$ ")
				cmd = append(cmd, line)
				if !strings.HasSuffix(line, "\\") {
					i++
					break
				}
			}
			want := strings.Join(lines[i:], "\n")
			script := strings.Join(cmd, "\n")
			script = strings.ReplaceAll(script, "http://127.0.0.1:8081", intel.URL)
			script = strings.ReplaceAll(script, "http://127.0.0.1:8082", desk.URL)
			out, err := exec.Command("bash", "-c", script).Output()
			require.NoError(t, err, script)
			var got, exp map[string]any
			require.NoError(t, json.Unmarshal(out, &got), "%s answered %s", script, out)
			require.NoError(t, json.Unmarshal([]byte(want), &exp), "README's answer to %s", script)
			if _, ok := exp["created_at"]; ok {
				require.NotEmpty(t, got["created_at"], script)
				got["created_at"], exp["created_at"] = "", ""
			}
			require.Equal(t, exp, got, script)
			n++
		}
	}
	require.GreaterOrEqual(t, n, 9, "every example ran")
}
