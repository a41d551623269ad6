package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/database"
	"github.com/aiflow/aiflow/internal/pgcluster"
)

// minGo is the oldest Go toolchain that builds aiflow (go.mod's go line).
var minGo = [2]int{1, 26}

type checkStatus string

const (
	pass checkStatus = "pass"
	fail checkStatus = "FAIL"
	skip checkStatus = "skip"
)

type check struct {
	name   string
	status checkStatus
	detail string
}

// doctorDeps are the doctor's views of the machine, replaceable in tests.
type doctorDeps struct {
	goVersionFunc   func(ctx context.Context) (string, error)
	findBinaries    func(dir string) (pgcluster.Binaries, error)
	pingFunc        func(ctx context.Context, url string) error
	euid            int
	lookupUserFunc  func(name string) error
	awsCredentsFunc func(ctx context.Context, region string) (string, error)
}

func realDoctorDeps() doctorDeps {
	return doctorDeps{
		goVersionFunc: func(ctx context.Context) (string, error) {
			out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
			return strings.TrimSpace(string(out)), err
		},
		findBinaries: pgcluster.FindBinaries,
		pingFunc:     database.Ping,
		euid:         os.Geteuid(),
		lookupUserFunc: func(name string) error {
			_, err := user.Lookup(name)
			return err
		},
		awsCredentsFunc: awsCredentials,
	}
}

func cmdDoctor(ctx context.Context, args []string, e env) int {
	if code, ok := checkNoArgs("doctor", args, e); !ok {
		return code
	}
	return doctor(ctx, e, realDoctorDeps())
}

func doctor(ctx context.Context, e env, d doctorDeps) int {
	var checks []check
	add := func(name string, status checkStatus, format string, args ...any) {
		checks = append(checks, check{name, status, fmt.Sprintf(format, args...)})
	}

	cfg, cfgErr := config.LoadDoctor(e.lookup)
	var cfgProblems *config.Error
	if errors.As(cfgErr, &cfgProblems) {
		for _, p := range cfgProblems.Problems {
			add("config "+p.Var, fail, "%s (example: %s=%s)", p.Problem, p.Var, p.Example)
		}
	} else if cfgErr != nil {
		add("configuration", fail, "%v", cfgErr)
	} else {
		add("configuration", pass, "every AIFLOW_* and provider variable is valid")
	}

	// Go
	if v, err := d.goVersionFunc(ctx); err != nil {
		add("go toolchain", fail, "go not found on PATH: install Go %d.%d or newer (https://go.dev/dl/)", minGo[0], minGo[1])
	} else if ok, parsed := goAtLeast(v, minGo); !ok {
		add("go toolchain", fail, "%s is too old: aiflow needs go%d.%d or newer", orUnknown(parsed, v), minGo[0], minGo[1])
	} else {
		add("go toolchain", pass, "%s (needs go%d.%d or newer)", v, minGo[0], minGo[1])
	}

	// PostgreSQL: a reachable DATABASE_URL, or binaries to start a cluster.
	urlReachable := false
	if cfg.DatabaseURL != "" {
		if err := d.pingFunc(ctx, cfg.DatabaseURL); err != nil {
			add("database", fail, "DATABASE_URL is not reachable: %v", err)
		} else {
			urlReachable = true
			add("database", pass, "DATABASE_URL is reachable")
		}
	} else {
		add("database", pass, "DATABASE_URL not set: aiflow dev and the tests start a local cluster")
	}
	bins, binErr := d.findBinaries(cfg.PGBinDir)
	switch {
	case binErr == nil:
		add("postgresql binaries", pass, "PostgreSQL %s in %s", bins.Version, bins.Dir)
	case urlReachable:
		add("postgresql binaries", skip, "not found, and not needed while DATABASE_URL is reachable")
	case errors.Is(binErr, pgcluster.ErrNoBinaries):
		add("postgresql binaries", fail, "initdb and postgres not found: install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@17), set AIFLOW_PG_BINDIR, or set DATABASE_URL")
	default:
		add("postgresql binaries", fail, "%v", binErr)
	}
	if binErr == nil && !urlReachable {
		if d.euid == 0 {
			if err := d.lookupUserFunc("postgres"); err != nil {
				add("cluster user", fail, "running as root, and there is no postgres user to run PostgreSQL as: run as an ordinary user or create it (adduser --system --group postgres)")
			} else {
				add("cluster user", pass, "running as root: clusters run as the postgres user")
			}
		} else {
			add("cluster user", pass, "clusters run as the current user")
		}
	}

	// AWS, when the deployment or the model provider needs it.
	needAWS := cfg.Mode == config.ModeAWS || cfg.AIProvider == config.AIProviderBedrock
	if !needAWS {
		add("aws", skip, "AIFLOW_MODE=local and no Bedrock provider: AWS is not needed")
	} else {
		why := "AIFLOW_MODE=aws"
		if cfg.Mode != config.ModeAWS {
			why = "AIFLOW_AI_PROVIDER=bedrock"
		}
		if cfg.AWSRegion == "" && reported(cfgProblems, "AWS_REGION") {
			// already a configuration row
		} else if cfg.AWSRegion == "" {
			add("aws region", fail, "%s needs AWS_REGION (example: AWS_REGION=us-east-1)", why)
		} else {
			add("aws region", pass, "%s", cfg.AWSRegion)
			if source, err := d.awsCredentsFunc(ctx, cfg.AWSRegion); err != nil {
				add("aws credentials", fail, "%s needs AWS credentials: %v (set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", why, err)
			} else {
				add("aws credentials", pass, "found (%s)", source)
			}
		}
	}

	// The model provider's key.
	switch cfg.AIProvider {
	case config.AIProviderOpenAI:
		keyCheck(add, "OPENAI_API_KEY", cfg.OpenAIKey.Reveal())
	case config.AIProviderAnthropic:
		keyCheck(add, "ANTHROPIC_API_KEY", cfg.AnthropicKey.Reveal())
	case config.AIProviderBedrock:
		add("model provider", pass, "bedrock, with the AWS credentials above")
	default:
		add("model provider", pass, "scripted: canned replies, offline, no key needed")
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tSTATUS\tDETAIL")
	failed := 0
	for _, c := range checks {
		if c.status == fail {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.name, c.status, c.detail)
	}
	_ = tw.Flush()
	if failed > 0 {
		fmt.Fprintf(e.stdout, "\n%d of %d checks failed\n", failed, len(checks))
		return 1
	}
	fmt.Fprintf(e.stdout, "\nall %d checks passed\n", len(checks))
	return 0
}

func reported(e *config.Error, variable string) bool {
	if e == nil {
		return false
	}
	for _, p := range e.Problems {
		if p.Var == variable {
			return true
		}
	}
	return false
}

func keyCheck(add func(string, checkStatus, string, ...any), variable, value string) {
	if value == "" {
		add("model provider", fail, "%s is not set (example: %s=sk-...)", variable, variable)
		return
	}
	// The value is never printed; its length tells a truncated paste apart.
	add("model provider", pass, "%s is set (%d characters)", variable, len(value))
}

var goVersionRE = regexp.MustCompile(`^go(\d+)\.(\d+)`)

func goAtLeast(v string, min [2]int) (bool, string) {
	m := goVersionRE.FindStringSubmatch(v)
	if m == nil {
		return false, ""
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major > min[0] || (major == min[0] && minor >= min[1]), v
}

func orUnknown(parsed, raw string) string {
	if parsed == "" {
		return fmt.Sprintf("an unrecognised Go version %q", raw)
	}
	return parsed
}

// awsCredentials resolves credentials the way the SDK will at run time, and
// names where they came from. It makes no network call except to the
// instance metadata service, bounded by a short timeout.
func awsCredentials(ctx context.Context, region string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return "", fmt.Errorf("loading AWS configuration: %w", err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return "", errors.New("no credentials found in the environment, the shared files or the instance role")
	}
	return creds.Source, nil
}
