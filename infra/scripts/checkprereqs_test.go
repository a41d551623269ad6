package scripts_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// controlledVars are the variables check-prereqs.sh reads. Every run starts
// without them, so the developer's shell does not change the outcome.
var controlledVars = []string{
	"DATABASE_URL", "AIFLOW_PG_BINDIR", "AIFLOW_MODE", "AIFLOW_AI_PROVIDER",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI", "OPENAI_API_KEY", "ANTHROPIC_API_KEY",
}

// checkRow is one row of the script's table.
type checkRow struct {
	name, status, detail string
}

// checkRun is the outcome of one run of check-prereqs.sh.
type checkRun struct {
	exitCode int
	output   string
	rows     []checkRow
	summary  string
}

// row returns the row called name, failing the test when there is none.
func (r checkRun) row(t *testing.T, name string) checkRow {
	t.Helper()
	for _, row := range r.rows {
		if row.name == name {
			return row
		}
	}
	require.FailNow(t, "no such row", "row %q not in the output:\n%s", name, r.output)
	return checkRow{}
}

// runOptions control the environment of one run.
type runOptions struct {
	// env sets variables on top of the environment without controlledVars.
	env map[string]string
	// binDir, when not empty, comes first on PATH (for fake programs).
	binDir string
}

// runCheck runs check-prereqs.sh with bash, parses its table and checks the
// invariants every run shares: the columns line up under the header, the
// summary counts the FAIL rows, and the exit code is 1 exactly when a row
// failed.
func runCheck(t *testing.T, opts runOptions) checkRun {
	t.Helper()

	env := make([]string, 0, len(os.Environ())+len(opts.env)+1)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if isControlled(name) || name == "HOME" || name == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	// A HOME of its own holds no ~/.aws files. Go's own files (its
	// telemetry counters, which a child of `go env` may still be writing
	// when the test ends) stay in the real configuration folder, so the
	// temporary HOME can be removed.
	if _, set := os.LookupEnv("XDG_CONFIG_HOME"); !set {
		if dir, err := os.UserConfigDir(); err == nil {
			env = append(env, "XDG_CONFIG_HOME="+dir)
		}
	}
	env = append(env, "HOME="+t.TempDir())
	path := os.Getenv("PATH")
	if opts.binDir != "" {
		path = opts.binDir + string(os.PathListSeparator) + path
	}
	env = append(env, "PATH="+path)
	for k, v := range opts.env {
		env = append(env, k+"="+v)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "check-prereqs.sh")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	run := checkRun{output: string(out)}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		run.exitCode = exitErr.ExitCode()
	} else {
		require.NoError(t, err, "running check-prereqs.sh:\n%s", out)
	}

	lines := strings.Split(strings.TrimRight(run.output, "\n"), "\n")
	require.GreaterOrEqual(t, len(lines), 3, "output:\n%s", run.output)
	header := lines[0]
	statusCol, detailCol := strings.Index(header, "STATUS"), strings.Index(header, "DETAIL")
	require.True(t, strings.HasPrefix(header, "CHECK "), "header: %q", header)
	require.Positive(t, statusCol, "header: %q", header)
	require.Greater(t, detailCol, statusCol, "header: %q", header)
	failed := 0
	i := 1
	for ; i < len(lines) && lines[i] != ""; i++ {
		line := lines[i]
		require.Greater(t, len(line), detailCol, "short row %q in:\n%s", line, run.output)
		row := checkRow{
			name:   strings.TrimSpace(line[:statusCol]),
			status: strings.TrimSpace(line[statusCol:detailCol]),
			detail: line[detailCol:],
		}
		require.NotEmpty(t, row.name, "row %q is not aligned with the header:\n%s", line, run.output)
		require.Contains(t, []string{"pass", "FAIL", "skip"}, row.status, "row %q is not aligned with the header:\n%s", line, run.output)
		if row.status == "FAIL" {
			failed++
		}
		run.rows = append(run.rows, row)
	}
	require.Equal(t, len(lines)-2, i, "expected one blank line, then the summary:\n%s", run.output)
	run.summary = lines[len(lines)-1]
	if failed > 0 {
		require.Equal(t, fmt.Sprintf("%d of %d checks failed", failed, len(run.rows)), run.summary)
		require.Equal(t, 1, run.exitCode)
	} else {
		require.Equal(t, fmt.Sprintf("all %d checks passed", len(run.rows)), run.summary)
		require.Equal(t, 0, run.exitCode)
	}
	return run
}

func isControlled(name string) bool {
	for _, v := range controlledVars {
		if v == name {
			return true
		}
	}
	return false
}

// fakeProgram writes an executable shell script called name into dir.
func fakeProgram(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755))
}

var pgVersionDetail = regexp.MustCompile(`^PostgreSQL (\d+)\.\d+ in /`)

// TestCheckPrereqsThisMachine runs the script as a developer would on a
// machine set up for aiflow: Go 1.26 and PostgreSQL server binaries, like
// this one and CI.
func TestCheckPrereqsThisMachine(t *testing.T) {
	t.Parallel()

	run := runCheck(t, runOptions{})

	require.Equal(t, 0, run.exitCode, run.output)
	var names []string
	for _, row := range run.rows {
		names = append(names, row.name)
		want := "pass"
		if row.name == "aws" {
			want = "skip"
		}
		require.Equal(t, want, row.status, "row %q:\n%s", row.name, run.output)
	}
	require.Equal(t, []string{
		"go toolchain", "make", "git", "database", "postgresql binaries",
		"cluster user", "psql", "aws", "model provider",
	}, names)
	require.Equal(t, "all 9 checks passed", run.summary)

	m := pgVersionDetail.FindStringSubmatch(run.row(t, "postgresql binaries").detail)
	require.NotNil(t, m, run.output)
	major, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.GreaterOrEqual(t, major, 14)
	require.Regexp(t, `^go1\.\d+`, run.row(t, "go toolchain").detail)
}

func TestCheckPrereqs(t *testing.T) {
	t.Parallel()

	const secret = "s3cr3t"
	const openAIKey = "sk-test-0123456789abcdef"

	tests := []struct {
		name string
		// setup returns the options of the run; dir is an empty folder
		// for fake programs or a fake AIFLOW_PG_BINDIR.
		setup      func(t *testing.T, dir string) runOptions
		check      string   // the row under test
		status     string   // its status
		detail     []string // substrings of its detail
		exitCode   int
		notPrinted []string // strings the output must not contain
	}{
		{
			name: "go too old",
			setup: func(t *testing.T, dir string) runOptions {
				fakeProgram(t, dir, "go", `echo go1.21.0`)
				return runOptions{binDir: dir}
			},
			check:    "go toolchain",
			status:   "FAIL",
			detail:   []string{"go1.21.0 is too old", "install Go 1.26 or newer"},
			exitCode: 1,
		},
		{
			name: "go unrecognised version",
			setup: func(t *testing.T, dir string) runOptions {
				fakeProgram(t, dir, "go", `echo devel`)
				return runOptions{binDir: dir}
			},
			check:    "go toolchain",
			status:   "FAIL",
			detail:   []string{"unrecognised version 'devel'", "install Go 1.26 or newer"},
			exitCode: 1,
		},
		{
			name: "AIFLOW_PG_BINDIR empty folder",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_PG_BINDIR": dir}}
			},
			check:    "postgresql binaries",
			status:   "FAIL",
			detail:   []string{"does not hold initdb and postgres"},
			exitCode: 1,
		},
		{
			name: "AIFLOW_PG_BINDIR not a folder",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_PG_BINDIR": filepath.Join(dir, "missing")}}
			},
			check:    "postgresql binaries",
			status:   "FAIL",
			detail:   []string{"missing is not a directory"},
			exitCode: 1,
		},
		{
			name: "AIFLOW_PG_BINDIR PostgreSQL too old",
			setup: func(t *testing.T, dir string) runOptions {
				fakeProgram(t, dir, "initdb", `exit 0`)
				fakeProgram(t, dir, "postgres", `echo "postgres (PostgreSQL) 13.4"`)
				return runOptions{env: map[string]string{"AIFLOW_PG_BINDIR": dir}}
			},
			check:    "postgresql binaries",
			status:   "FAIL",
			detail:   []string{"PostgreSQL 13.4 in ", "too old: aiflow needs 14 or newer"},
			exitCode: 1,
		},
		{
			name: "AIFLOW_PG_BINDIR PostgreSQL 17",
			setup: func(t *testing.T, dir string) runOptions {
				fakeProgram(t, dir, "initdb", `exit 0`)
				fakeProgram(t, dir, "postgres", `echo "postgres (PostgreSQL) 17.2"`)
				return runOptions{env: map[string]string{"AIFLOW_PG_BINDIR": dir}}
			},
			check:  "postgresql binaries",
			status: "pass",
			detail: []string{"PostgreSQL 17.2 in "},
		},
		{
			name: "DATABASE_URL bad scheme",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"DATABASE_URL": "mysql://u:" + secret + "@localhost/db"}}
			},
			check:      "database",
			status:     "FAIL",
			detail:     []string{"must start with postgres:// or postgresql://"},
			exitCode:   1,
			notPrinted: []string{secret},
		},
		{
			name: "DATABASE_URL no host",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"DATABASE_URL": "postgres://u:" + secret + "@/db"}}
			},
			check:      "database",
			status:     "FAIL",
			detail:     []string{"postgres://u:xxxxx@/db has no host"},
			exitCode:   1,
			notPrinted: []string{secret},
		},
		{
			name: "DATABASE_URL unreachable",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"DATABASE_URL": "postgres://u:" + secret + "@127.0.0.1:1/db"}}
			},
			check:      "database",
			status:     "FAIL",
			detail:     []string{"postgres://u:xxxxx@127.0.0.1:1/db is not reachable"},
			exitCode:   1,
			notPrinted: []string{secret},
		},
		{
			name: "DATABASE_URL reachable",
			setup: func(t *testing.T, dir string) runOptions {
				fakeProgram(t, dir, "pg_isready", `exit 0`)
				return runOptions{
					binDir: dir,
					env:    map[string]string{"DATABASE_URL": "postgresql://u:" + secret + "@db.example:5432/db?password=" + secret + "&sslmode=require"},
				}
			},
			check:      "database",
			status:     "pass",
			detail:     []string{"postgresql://u:xxxxx@db.example:5432/db?password=xxxxx&sslmode=require is reachable"},
			notPrinted: []string{secret},
		},
		{
			name: "aws without region",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{
					"AIFLOW_MODE":           "aws",
					"AWS_ACCESS_KEY_ID":     "AKIAEXAMPLE",
					"AWS_SECRET_ACCESS_KEY": secret,
				}}
			},
			check:      "aws region",
			status:     "FAIL",
			detail:     []string{"AIFLOW_MODE=aws needs AWS_REGION", "us-east-1"},
			exitCode:   1,
			notPrinted: []string{secret},
		},
		{
			name: "aws bad region",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_MODE": "aws", "AWS_REGION": "useast1", "AWS_PROFILE": "dev"}}
			},
			check:    "aws region",
			status:   "FAIL",
			detail:   []string{"AWS_REGION=useast1 is not an AWS region", "us-east-1"},
			exitCode: 1,
		},
		{
			name: "aws region from AWS_DEFAULT_REGION",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_MODE": "aws", "AWS_DEFAULT_REGION": "us-gov-west-1", "AWS_PROFILE": "dev"}}
			},
			check:  "aws region",
			status: "pass",
			detail: []string{"us-gov-west-1 (from AWS_DEFAULT_REGION)"},
		},
		{
			name: "aws without credentials",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_AI_PROVIDER": "bedrock", "AWS_REGION": "eu-west-1"}}
			},
			check:    "aws credentials",
			status:   "FAIL",
			detail:   []string{"AIFLOW_AI_PROVIDER=bedrock needs AWS credentials"},
			exitCode: 1,
		},
		{
			name: "aws credentials file",
			setup: func(t *testing.T, dir string) runOptions {
				file := filepath.Join(dir, "credentials")
				require.NoError(t, os.WriteFile(file, []byte("[default]\n"), 0o600))
				return runOptions{env: map[string]string{
					"AIFLOW_MODE":                 "aws",
					"AWS_REGION":                  "eu-west-1",
					"AWS_SHARED_CREDENTIALS_FILE": file,
				}}
			},
			check:  "aws credentials",
			status: "pass",
			detail: []string{"shared credentials file"},
		},
		{
			name: "AIFLOW_MODE invalid",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_MODE": "cloud"}}
			},
			check:    "aiflow mode",
			status:   "FAIL",
			detail:   []string{"AIFLOW_MODE=cloud", "local or aws"},
			exitCode: 1,
		},
		{
			name: "openai without key",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_AI_PROVIDER": "openai"}}
			},
			check:    "model provider",
			status:   "FAIL",
			detail:   []string{"OPENAI_API_KEY"},
			exitCode: 1,
		},
		{
			name: "openai with key",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_AI_PROVIDER": "openai", "OPENAI_API_KEY": openAIKey}}
			},
			check:      "model provider",
			status:     "pass",
			detail:     []string{fmt.Sprintf("OPENAI_API_KEY is set (%d characters)", len(openAIKey))},
			notPrinted: []string{openAIKey},
		},
		{
			name: "anthropic without key",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_AI_PROVIDER": "anthropic", "OPENAI_API_KEY": openAIKey}}
			},
			check:      "model provider",
			status:     "FAIL",
			detail:     []string{"ANTHROPIC_API_KEY"},
			exitCode:   1,
			notPrinted: []string{openAIKey},
		},
		{
			name: "provider invalid",
			setup: func(t *testing.T, dir string) runOptions {
				return runOptions{env: map[string]string{"AIFLOW_AI_PROVIDER": "gemini"}}
			},
			check:    "model provider",
			status:   "FAIL",
			detail:   []string{"AIFLOW_AI_PROVIDER=gemini", "scripted, openai, anthropic or bedrock"},
			exitCode: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()

			run := runCheck(t, tt.setup(t, dir))

			row := run.row(t, tt.check)
			require.Equal(t, tt.status, row.status, run.output)
			for _, want := range tt.detail {
				require.Contains(t, row.detail, want, run.output)
			}
			require.Equal(t, tt.exitCode, run.exitCode, run.output)
			for _, s := range tt.notPrinted {
				require.NotContains(t, run.output, s)
			}
		})
	}
}

// TestCheckPrereqsPassesURLWhole checks that pg_isready gets DATABASE_URL as
// one argument, however it is quoted.
func TestCheckPrereqsPassesURLWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fakeProgram(t, dir, "pg_isready", `printf '%s\n' "$@" > "$(dirname "$0")/args"; exit 0`)
	url := "postgres://u:p w*@localhost:5432/db?application_name=a b"

	run := runCheck(t, runOptions{binDir: dir, env: map[string]string{"DATABASE_URL": url}})

	require.Equal(t, "pass", run.row(t, "database").status, run.output)
	args, err := os.ReadFile(filepath.Join(dir, "args"))
	require.NoError(t, err)
	require.Equal(t, "-q\n-d\n"+url+"\n-t\n3\n", string(args))
	require.NotContains(t, run.output, "p w*")
}
