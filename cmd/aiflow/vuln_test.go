package main

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMakeVulnSkipsWithoutDatabase: on a machine without the offline
// vulnerability database, make vuln (and so make lint) says why it
// skipped and succeeds.
func TestMakeVulnSkipsWithoutDatabase(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed to lint")
	}
	missing := filepath.Join(t.TempDir(), "vulndb")
	cmd := exec.Command("make", "-s", "vuln", "VULNDB="+missing)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make vuln: %s", out)
	require.Equal(t, "vuln: skipped: no Go vulnerability database at "+missing+" (set VULNDB to a folder holding index/db.json)\n", string(out))
}
