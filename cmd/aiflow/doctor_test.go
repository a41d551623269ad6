package main

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster"
	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

// row finds the doctor's row for a check and returns its status and detail.
func row(t *testing.T, out, check string) (string, string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(check) + `\s+(pass|FAIL|skip)\s+(.*)$`).FindStringSubmatch(out)
	require.NotNil(t, m, "no %q row in:\n%s", check, out)
	return m[1], m[2]
}

func TestDoctorOnThisMachinePasses(t *testing.T) {
	t.Parallel()
	te := newTestEnv(nil)
	code := doctor(context.Background(), te.env(), realDoctorDeps())
	out := te.stdout.String()
	require.Equal(t, 0, code, out)
	require.Regexp(t, `^CHECK\s+STATUS\s+DETAIL\n`, out)
	for _, check := range []string{"configuration", "go toolchain", "database", "postgresql binaries", "cluster user", "model provider"} {
		status, _ := row(t, out, check)
		require.Equal(t, "pass", status, check)
	}
	status, _ := row(t, out, "aws")
	require.Equal(t, "skip", status)
	require.Contains(t, out, "checks passed")
}

func TestDoctorFindsEachProblem(t *testing.T) {
	t.Parallel()
	okDeps := realDoctorDeps()
	okDeps.goVersionFunc = func(context.Context) (string, error) { return "go1.26.3", nil }
	okDeps.awsCredentsFunc = func(context.Context, string) (string, error) { return "EnvConfigCredentials", nil }

	for _, tc := range []struct {
		name       string
		vars       map[string]string
		deps       func(d *doctorDeps)
		check      string
		status     string
		detail     string
		wantCode   int
		notPrinted string
	}{
		{
			name: "old go",
			deps: func(d *doctorDeps) {
				d.goVersionFunc = func(context.Context) (string, error) { return "go1.21.0", nil }
			},
			check: "go toolchain", status: "FAIL", detail: "go1.21.0 is too old: aiflow needs go1.26 or newer", wantCode: 1,
		},
		{
			name: "no go",
			deps: func(d *doctorDeps) {
				d.goVersionFunc = func(context.Context) (string, error) { return "", errors.New("not found") }
			},
			check: "go toolchain", status: "FAIL", detail: "go not found on PATH", wantCode: 1,
		},
		{
			name:  "unreachable database",
			vars:  map[string]string{"DATABASE_URL": "postgres://aiflow:s3cr3t@127.0.0.1:1/aiflow?sslmode=disable"},
			check: "database", status: "FAIL", detail: "DATABASE_URL is not reachable", wantCode: 1, notPrinted: "s3cr3t",
		},
		{
			name: "no binaries, no URL",
			deps: func(d *doctorDeps) {
				d.findBinaries = func(string) (pgcluster.Binaries, error) { return pgcluster.Binaries{}, pgcluster.ErrNoBinaries }
			},
			check: "postgresql binaries", status: "FAIL", detail: "apt-get install postgresql", wantCode: 1,
		},
		{
			name: "root without a postgres user",
			deps: func(d *doctorDeps) {
				d.euid = 0
				d.lookupUserFunc = func(string) error { return errors.New("unknown user") }
			},
			check: "cluster user", status: "FAIL", detail: "no postgres user", wantCode: 1,
		},
		{
			name:  "aws mode without a region",
			vars:  map[string]string{"AIFLOW_MODE": "aws"},
			check: "config AWS_REGION", status: "FAIL", detail: "required when AIFLOW_MODE=aws", wantCode: 1,
		},
		{
			name:  "aws mode with region and credentials",
			vars:  map[string]string{"AIFLOW_MODE": "aws", "AWS_REGION": "eu-west-1"},
			check: "aws credentials", status: "pass", detail: "EnvConfigCredentials", wantCode: 0,
		},
		{
			name: "aws mode without credentials",
			vars: map[string]string{"AIFLOW_MODE": "aws", "AWS_REGION": "eu-west-1"},
			deps: func(d *doctorDeps) {
				d.awsCredentsFunc = func(context.Context, string) (string, error) { return "", errors.New("no credentials found") }
			},
			check: "aws credentials", status: "FAIL", detail: "AIFLOW_MODE=aws needs AWS credentials", wantCode: 1,
		},
		{
			name:  "bedrock needs aws",
			vars:  map[string]string{"AIFLOW_AI_PROVIDER": "bedrock"},
			check: "aws region", status: "FAIL", detail: "AIFLOW_AI_PROVIDER=bedrock needs AWS_REGION", wantCode: 1,
		},
		{
			name:  "openai without a key",
			vars:  map[string]string{"AIFLOW_AI_PROVIDER": "openai"},
			check: "model provider", status: "FAIL", detail: "OPENAI_API_KEY is not set", wantCode: 1,
		},
		{
			name:  "anthropic with a key",
			vars:  map[string]string{"AIFLOW_AI_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-abcdefgh"},
			check: "model provider", status: "pass", detail: "ANTHROPIC_API_KEY is set (15 characters)", wantCode: 0, notPrinted: "sk-ant-abcdefgh",
		},
		{
			name:  "bad variable",
			vars:  map[string]string{"AIFLOW_LOG_FORMAT": "xml"},
			check: "config AIFLOW_LOG_FORMAT", status: "FAIL", detail: `"xml" is not one of auto, json, text`, wantCode: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := okDeps
			if tc.deps != nil {
				tc.deps(&d)
			}
			te := newTestEnv(tc.vars)
			code := doctor(context.Background(), te.env(), d)
			out := te.stdout.String()
			require.Equal(t, tc.wantCode, code, out)
			status, detail := row(t, out, tc.check)
			require.Equal(t, tc.status, status, out)
			require.Contains(t, detail, tc.detail)
			if tc.notPrinted != "" {
				require.NotContains(t, out+te.stderr.String(), tc.notPrinted)
			}
			if tc.wantCode == 1 {
				require.Regexp(t, `\d+ of \d+ checks failed\n$`, out)
			}
		})
	}
}

func TestDoctorWithAReachableDatabaseNeedsNoBinaries(t *testing.T) {
	t.Parallel()
	d := realDoctorDeps()
	d.findBinaries = func(string) (pgcluster.Binaries, error) { return pgcluster.Binaries{}, pgcluster.ErrNoBinaries }
	te := newTestEnv(map[string]string{"DATABASE_URL": pgclustertest.Database(t)})
	require.Equal(t, 0, doctor(context.Background(), te.env(), d), te.stdout.String())
	status, _ := row(t, te.stdout.String(), "database")
	require.Equal(t, "pass", status)
	status, _ = row(t, te.stdout.String(), "postgresql binaries")
	require.Equal(t, "skip", status)
}
