package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// TestLocalStackFiles checks what can be checked without Docker of
// localstack/ (README.md there) and its CI workflow: the YAML parses and
// says what the README says, the shell scripts parse (and pass
// shellcheck where it is installed), and the ready hook overrides only
// parameters template.yaml has.
func TestLocalStackFiles(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(repoRoot, "localstack")

	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
		} `yaml:"services"`
		Networks map[string]struct {
			Name string `yaml:"name"`
		} `yaml:"networks"`
	}
	decodeYAML(t, filepath.Join(dir, "docker-compose.yml"), &compose)
	ls, ok := compose.Services["localstack"]
	require.True(t, ok, "the compose file has a localstack service")
	require.True(t, strings.HasPrefix(ls.Image, "localstack/localstack:"), ls.Image)
	require.Contains(t, ls.Volumes, "./init/ready.d:/etc/localstack/init/ready.d:ro", "the ready hooks are mounted where LocalStack runs them")
	require.Contains(t, ls.Volumes, "/var/run/docker.sock:/var/run/docker.sock", "LocalStack runs functions in containers")
	require.Equal(t, "1", ls.Environment["CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES"])
	require.Equal(t, compose.Networks["aiflow"].Name, ls.Environment["LAMBDA_DOCKER_NETWORK"], "functions join the network the database is on")
	require.Contains(t, compose.Services, "postgres", "PostgreSQL stands in for Aurora")

	var workflow struct {
		Jobs map[string]struct {
			RunsOn string `yaml:"runs-on"`
			Steps  []struct {
				Run  string `yaml:"run"`
				Uses string `yaml:"uses"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	decodeYAML(t, filepath.Join(repoRoot, ".github/workflows/localstack.yml"), &workflow)
	job, ok := workflow.Jobs["localstack"]
	require.True(t, ok, "the workflow has a localstack job")
	var runs []string
	for _, s := range job.Steps {
		runs = append(runs, s.Run)
	}
	require.Contains(t, runs, "docker compose -f localstack/docker-compose.yml up -d")
	require.Contains(t, runs, "localstack/smoke.sh")
	decodeYAML(t, filepath.Join(repoRoot, ".github/workflows/ci.yml"), &struct{}{})

	scripts := []string{filepath.Join(dir, "smoke.sh")}
	hooks, err := filepath.Glob(filepath.Join(dir, "init/ready.d/*.sh"))
	require.NoError(t, err)
	require.NotEmpty(t, hooks)
	scripts = append(scripts, hooks...)
	shellcheck, _ := exec.LookPath("shellcheck")
	for _, script := range scripts {
		info, err := os.Stat(script)
		require.NoError(t, err)
		require.NotZero(t, info.Mode()&0o111, "%s is executable: LocalStack runs only executable hooks", script)
		out, err := exec.Command("bash", "-n", script).CombinedOutput()
		require.NoError(t, err, "bash -n %s: %s", script, out)
		if shellcheck != "" {
			out, err := exec.Command(shellcheck, script).CombinedOutput()
			require.NoError(t, err, "shellcheck %s: %s", script, out)
		}
	}

	// Each line of the hook's overrides=( ... ) is "Name=value".
	hook, err := os.ReadFile(filepath.Join(dir, "init/ready.d/10-deploy-aiflow.sh"))
	require.NoError(t, err)
	block := regexp.MustCompile(`(?s)\noverrides=\((.*?)\n\)`).FindSubmatch(hook)
	require.NotNil(t, block, "the hook has an overrides=( ... ) array")
	var tmpl struct {
		Parameters map[string]any `yaml:"Parameters"`
	}
	decodeYAML(t, filepath.Join(repoRoot, "template.yaml"), &tmpl)
	names := regexp.MustCompile(`(?m)^\s*"([A-Za-z0-9]+)=`).FindAllSubmatch(block[1], -1)
	require.NotEmpty(t, names)
	for _, n := range names {
		_, ok := tmpl.Parameters[string(n[1])]
		require.True(t, ok, "the hook overrides %s, which template.yaml does not have", n[1])
	}
}

// decodeYAML decodes a YAML file into v; CloudFormation's short tags (!Ref,
// !Sub) decode as plain values.
func decodeYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(raw, v), "%s is YAML", path)
}
