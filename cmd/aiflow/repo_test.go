package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

const repoRoot = "../.."

// makefileFunctions reads the Makefile's FUNCTIONS list: logical id -> folder.
func makefileFunctions(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^FUNCTIONS := (.*)$`).FindSubmatch(raw)
	require.NotNil(t, m, "the Makefile has a FUNCTIONS line")
	out := map[string]string{}
	for _, f := range strings.Fields(string(m[1])) {
		id, dir, ok := strings.Cut(f, ":")
		require.True(t, ok, "FUNCTIONS entry %q is LogicalId:folder", f)
		out[id] = dir
	}
	return out
}

// templateFunctions reads template.yaml's serverless functions built by make.
func templateFunctions(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "template.yaml"))
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Type     string `yaml:"Type"`
			Metadata struct {
				BuildMethod string `yaml:"BuildMethod"`
			} `yaml:"Metadata"`
			Properties struct {
				CodeUri string `yaml:"CodeUri"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	// CloudFormation's short tags (!Ref, !Sub) decode as plain scalars.
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	out := map[string]bool{}
	for id, r := range doc.Resources {
		if r.Type == "AWS::Serverless::Function" {
			require.Equal(t, "makefile", r.Metadata.BuildMethod, "%s is built by the Makefile", id)
			require.Equal(t, ".", r.Properties.CodeUri, "%s builds from the repository root", id)
			out[id] = true
		}
	}
	return out
}

func TestEveryFunctionIsBuiltAndDeployed(t *testing.T) {
	t.Parallel()
	fromMake := makefileFunctions(t)
	fromTemplate := templateFunctions(t)
	dirs, err := filepath.Glob(filepath.Join(repoRoot, "functions", "*", "main.go"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	folders := map[string]bool{}
	for _, d := range dirs {
		folders[filepath.Base(filepath.Dir(d))] = true
	}
	for id, dir := range fromMake {
		require.True(t, folders[dir], "Makefile's %s builds functions/%s, which exists", id, dir)
		require.True(t, fromTemplate[id], "Makefile's %s is a function in template.yaml", id)
	}
	for id := range fromTemplate {
		require.Contains(t, fromMake, id, "template.yaml's %s has a build target in the Makefile", id)
	}
	require.Len(t, fromMake, len(folders), "every functions/ folder is in the Makefile")
}

// TestSAMBuildTarget runs the target `sam build` calls and checks it leaves a
// linux/arm64 executable named bootstrap in ARTIFACTS_DIR.
func TestSAMBuildTarget(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Fatal("make is needed to build the Lambda functions")
	}
	for id := range makefileFunctions(t) {
		artifacts := t.TempDir()
		cmd := exec.Command("make", "-s", "build-"+id, "ARTIFACTS_DIR="+artifacts)
		cmd.Dir = repoRoot
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "make build-%s: %s", id, out)
		f, err := elf.Open(filepath.Join(artifacts, "bootstrap"))
		require.NoError(t, err)
		require.Equal(t, elf.EM_AARCH64, f.Machine, "%s is built for arm64", id)
		require.Equal(t, elf.ET_EXEC, f.Type)
		require.NoError(t, f.Close())
	}
}
