package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/telemetry"
)

// env returns a LookupFunc over m.
func env(m map[string]string) LookupFunc {
	return func(key string) (string, bool) {
		v, ok := m[key]
		return v, ok
	}
}

// problems returns the problems in err, which must be an *Error.
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var cfgErr *Error
	require.ErrorAs(t, err, &cfgErr)
	return cfgErr.Problems
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()

	defaultLog := Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto}

	t.Run("Dev", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(env(nil))
		require.NoError(t, err)
		require.Equal(t, Dev{
			DataDir:         ".aiflow",
			HTTPAddr:        "127.0.0.1:8080",
			ShutdownTimeout: 10 * time.Second,
			EngineAddr:      "127.0.0.1:8083",
			RateLimit:       DefaultRateLimit,
			RateBurst:       DefaultRateBurst,
			Workers:         noLocalWorkers,
			Log:             defaultLog,
		}, cfg)
	})
	t.Run("Migrate", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadMigrate(env(nil))
		require.NoError(t, err)
		require.Equal(t, Migrate{DataDir: ".aiflow", Log: defaultLog}, cfg)
	})
	t.Run("API", func(t *testing.T) {
		t.Parallel()

		const dsn = "postgres://aiflow:secret@db:5432/aiflow"
		cfg, err := LoadAPI(env(map[string]string{"DATABASE_URL": dsn}))
		require.NoError(t, err)
		require.Equal(t, API{Database: Database{URL: dsn}, Log: defaultLog, DBMaxConns: 2}, cfg)
	})
	t.Run("Doctor", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDoctor(env(nil))
		require.NoError(t, err)
		require.Equal(t, Doctor{Mode: ModeLocal, AIProvider: AIProviderScripted, Log: defaultLog}, cfg)
	})
	t.Run("EmptyValuesAreUnset", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(env(map[string]string{
			"DATABASE_URL":            "",
			"AIFLOW_DATA_DIR":         " ",
			"AIFLOW_HTTP_ADDR":        "",
			"AIFLOW_PG_BINDIR":        "",
			"AIFLOW_SHUTDOWN_TIMEOUT": "",
			"AIFLOW_LOG_LEVEL":        "",
			"AIFLOW_LOG_FORMAT":       "\t",
		}))
		require.NoError(t, err)
		require.Equal(t, ".aiflow", cfg.DataDir)
		require.Equal(t, defaultLog, cfg.Log)
	})
	t.Run("NilLookup", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(nil)
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1:8080", cfg.HTTPAddr)
	})
}

func TestLoadValues(t *testing.T) {
	t.Parallel()

	binDir := t.TempDir()

	t.Run("Dev", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(env(map[string]string{
			"DATABASE_URL":            "postgresql:///aiflow?host=/var/run/postgresql",
			"AIFLOW_DATA_DIR":         "/var/lib/aiflow",
			"AIFLOW_HTTP_ADDR":        ":9090",
			"AIFLOW_PG_BINDIR":        binDir,
			"AIFLOW_SHUTDOWN_TIMEOUT": "1m30s",
			"AIFLOW_ENGINE_ADDR":      "127.0.0.1:0",
			"AIFLOW_AI_SCRIPT":        "none",
			"AIFLOW_RATE_LIMIT":       "500",
			"AIFLOW_RATE_BURST":       "1000",
			"AIFLOW_LOG_LEVEL":        "DEBUG",
			"AIFLOW_LOG_FORMAT":       " text ",
		}))
		require.NoError(t, err)
		require.Equal(t, Dev{
			DatabaseURL:     "postgresql:///aiflow?host=/var/run/postgresql",
			DataDir:         "/var/lib/aiflow",
			HTTPAddr:        ":9090",
			PGBinDir:        binDir,
			ShutdownTimeout: 90 * time.Second,
			EngineAddr:      "127.0.0.1:0",
			AIScript:        "none",
			RateLimit:       500,
			RateBurst:       1000,
			Workers:         noLocalWorkers,
			Log:             Log{Level: slog.LevelDebug, Format: telemetry.FormatText},
		}, cfg)
	})
	t.Run("Migrate", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadMigrate(env(map[string]string{
			"DATABASE_URL":      "postgres://u:p@localhost/aiflow",
			"AIFLOW_DATA_DIR":   "data",
			"AIFLOW_PG_BINDIR":  binDir,
			"AIFLOW_LOG_LEVEL":  "error",
			"AIFLOW_LOG_FORMAT": "json",
		}))
		require.NoError(t, err)
		require.Equal(t, Migrate{
			DatabaseURL: "postgres://u:p@localhost/aiflow",
			DataDir:     "data",
			PGBinDir:    binDir,
			Log:         Log{Level: slog.LevelError, Format: telemetry.FormatJSON},
		}, cfg)
	})
	t.Run("API", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadAPI(env(map[string]string{
			"DATABASE_URL":        "postgres://u:p@db/aiflow",
			"AIFLOW_DB_MAX_CONNS": "100",
			"AIFLOW_LOG_LEVEL":    "warn",
		}))
		require.NoError(t, err)
		require.Equal(t, API{
			Database:   Database{URL: "postgres://u:p@db/aiflow"},
			Log:        Log{Level: slog.LevelWarn, Format: telemetry.FormatAuto},
			DBMaxConns: 100,
		}, cfg)
	})
	t.Run("DoctorAWS", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDoctor(env(map[string]string{
			"AIFLOW_MODE":        "aws",
			"AWS_REGION":         "eu-central-1",
			"AWS_DEFAULT_REGION": "not used",
			"AIFLOW_AI_PROVIDER": "anthropic",
			"OPENAI_API_KEY":     "sk-openai",
			"ANTHROPIC_API_KEY":  "sk-ant",
		}))
		require.NoError(t, err)
		require.Equal(t, ModeAWS, cfg.Mode)
		require.Equal(t, "eu-central-1", cfg.AWSRegion)
		require.Equal(t, AIProviderAnthropic, cfg.AIProvider)
		require.Equal(t, "sk-openai", cfg.OpenAIKey.Reveal())
		require.Equal(t, "sk-ant", cfg.AnthropicKey.Reveal())
	})
	t.Run("DatabaseURLShapes", func(t *testing.T) {
		t.Parallel()

		for _, dsn := range []string{
			"postgres://db/aiflow",
			"postgresql://u:p@[::1]:5432/aiflow?sslmode=disable",
			"postgres://u:p@h1:5432,h2:5432/aiflow",
			"postgres:///aiflow?host=/tmp",
		} {
			cfg, err := LoadAPI(env(map[string]string{"DATABASE_URL": dsn}))
			require.NoError(t, err, dsn)
			require.Equal(t, dsn, cfg.Database.URL)
		}
	})
	t.Run("DoctorDefaultRegion", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDoctor(env(map[string]string{
			"AIFLOW_MODE":        "aws",
			"AWS_DEFAULT_REGION": "us-gov-west-1",
		}))
		require.NoError(t, err)
		require.Equal(t, "us-gov-west-1", cfg.AWSRegion)
	})
}

func TestLoadProblems(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	file := filepath.Join(dir, "postgres")
	require.NoError(t, os.WriteFile(file, nil, 0o600))

	loadDev := func(l LookupFunc) error { _, err := LoadDev(l); return err }
	loadMigrate := func(l LookupFunc) error { _, err := LoadMigrate(l); return err }
	loadAPI := func(l LookupFunc) error { _, err := LoadAPI(l); return err }
	loadDoctor := func(l LookupFunc) error { _, err := LoadDoctor(l); return err }

	const pgExample = "postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable"

	tests := []struct {
		name string
		load func(LookupFunc) error
		env  map[string]string
		want string // the one Problem, as formatted in an Error
	}{
		{
			name: "DatabaseURLScheme",
			load: loadDev,
			env:  map[string]string{"DATABASE_URL": "mysql://u:hunter2@db/aiflow"},
			want: `DATABASE_URL: "mysql://u:xxxxx@db/aiflow" is not a PostgreSQL URL: the scheme must be postgres or postgresql (example: DATABASE_URL=` + pgExample + `)`,
		},
		{
			name: "DatabaseURLNoHost",
			load: loadMigrate,
			env:  map[string]string{"DATABASE_URL": "postgres://u:hunter2@/aiflow"},
			want: `DATABASE_URL: "postgres://u:xxxxx@/aiflow" has no host (example: DATABASE_URL=` + pgExample + `)`,
		},
		{
			name: "DatabaseURLUnparsable",
			load: loadDoctor,
			env:  map[string]string{"DATABASE_URL": "postgres://u:hunter2@db:port/aiflow"},
			want: `DATABASE_URL: "postgres://u:xxxxx@db:port/aiflow" is not a valid URL (example: DATABASE_URL=` + pgExample + `)`,
		},
		{
			name: "DatabaseURLKeywordValue",
			load: loadAPI,
			env:  map[string]string{"DATABASE_URL": "host=db pasword=hunter2"},
			want: `DATABASE_URL: (value hidden) is not a PostgreSQL URL: the scheme must be postgres or postgresql (example: DATABASE_URL=` + pgExample + `)`,
		},
		{
			name: "APIDatabaseURLRequired",
			load: loadAPI,
			env:  nil,
			want: `DATABASE_URL: required but not set (nor AIFLOW_DATABASE_SECRET) (example: DATABASE_URL=` + pgExample + `)`,
		},
		{
			name: "HTTPAddrNotHostPort",
			load: loadDev,
			env:  map[string]string{"AIFLOW_HTTP_ADDR": "abc"},
			want: `AIFLOW_HTTP_ADDR: "abc" is not host:port (example: AIFLOW_HTTP_ADDR=127.0.0.1:8080)`,
		},
		{
			name: "HTTPAddrPortName",
			load: loadDev,
			env:  map[string]string{"AIFLOW_HTTP_ADDR": "localhost:http"},
			want: `AIFLOW_HTTP_ADDR: "localhost:http" is not host:port: the port must be a number from 0 to 65535 (example: AIFLOW_HTTP_ADDR=127.0.0.1:8080)`,
		},
		{
			name: "HTTPAddrPortRange",
			load: loadDev,
			env:  map[string]string{"AIFLOW_HTTP_ADDR": "127.0.0.1:65536"},
			want: `AIFLOW_HTTP_ADDR: "127.0.0.1:65536" is not host:port: the port must be a number from 0 to 65535 (example: AIFLOW_HTTP_ADDR=127.0.0.1:8080)`,
		},
		{
			name: "PGBinDirMissing",
			load: loadDev,
			env:  map[string]string{"AIFLOW_PG_BINDIR": filepath.Join(dir, "nope")},
			want: `AIFLOW_PG_BINDIR: "` + filepath.Join(dir, "nope") + `" does not exist (example: AIFLOW_PG_BINDIR=/usr/lib/postgresql/17/bin)`,
		},
		{
			name: "PGBinDirIsFile",
			load: loadMigrate,
			env:  map[string]string{"AIFLOW_PG_BINDIR": file},
			want: `AIFLOW_PG_BINDIR: "` + file + `" is not a directory (example: AIFLOW_PG_BINDIR=/usr/lib/postgresql/17/bin)`,
		},
		{
			name: "ShutdownTimeoutNoUnit",
			load: loadDev,
			env:  map[string]string{"AIFLOW_SHUTDOWN_TIMEOUT": "10"},
			want: `AIFLOW_SHUTDOWN_TIMEOUT: "10" is not a duration such as 10s or 1m30s (example: AIFLOW_SHUTDOWN_TIMEOUT=10s)`,
		},
		{
			name: "ShutdownTimeoutZero",
			load: loadDev,
			env:  map[string]string{"AIFLOW_SHUTDOWN_TIMEOUT": "0s"},
			want: `AIFLOW_SHUTDOWN_TIMEOUT: "0s" is not greater than zero (example: AIFLOW_SHUTDOWN_TIMEOUT=10s)`,
		},
		{
			name: "ShutdownTimeoutNegative",
			load: loadDev,
			env:  map[string]string{"AIFLOW_SHUTDOWN_TIMEOUT": "-5s"},
			want: `AIFLOW_SHUTDOWN_TIMEOUT: "-5s" is not greater than zero (example: AIFLOW_SHUTDOWN_TIMEOUT=10s)`,
		},
		{
			name: "LogLevel",
			load: loadDev,
			env:  map[string]string{"AIFLOW_LOG_LEVEL": "loud"},
			want: `AIFLOW_LOG_LEVEL: "loud" is not one of debug, info, warn, error (example: AIFLOW_LOG_LEVEL=info)`,
		},
		{
			name: "LogFormat",
			load: loadAPI,
			env:  map[string]string{"DATABASE_URL": "postgres://db/aiflow", "AIFLOW_LOG_FORMAT": "yaml"},
			want: `AIFLOW_LOG_FORMAT: "yaml" is not one of auto, json, text (example: AIFLOW_LOG_FORMAT=auto)`,
		},
		{
			name: "DBMaxConnsNotInteger",
			load: loadAPI,
			env:  map[string]string{"DATABASE_URL": "postgres://db/aiflow", "AIFLOW_DB_MAX_CONNS": "many"},
			want: `AIFLOW_DB_MAX_CONNS: "many" is not an integer (example: AIFLOW_DB_MAX_CONNS=2)`,
		},
		{
			name: "DBMaxConnsTooLow",
			load: loadAPI,
			env:  map[string]string{"DATABASE_URL": "postgres://db/aiflow", "AIFLOW_DB_MAX_CONNS": "0"},
			want: `AIFLOW_DB_MAX_CONNS: "0" is not between 1 and 100 (example: AIFLOW_DB_MAX_CONNS=2)`,
		},
		{
			name: "DBMaxConnsTooHigh",
			load: loadAPI,
			env:  map[string]string{"DATABASE_URL": "postgres://db/aiflow", "AIFLOW_DB_MAX_CONNS": "101"},
			want: `AIFLOW_DB_MAX_CONNS: "101" is not between 1 and 100 (example: AIFLOW_DB_MAX_CONNS=2)`,
		},
		{
			name: "Mode",
			load: loadDoctor,
			env:  map[string]string{"AIFLOW_MODE": "cloud"},
			want: `AIFLOW_MODE: "cloud" is not one of local, aws (example: AIFLOW_MODE=local)`,
		},
		{
			name: "AWSRegionRequired",
			load: loadDoctor,
			env:  map[string]string{"AIFLOW_MODE": "aws"},
			want: `AWS_REGION: required when AIFLOW_MODE=aws but not set (nor AWS_DEFAULT_REGION) (example: AWS_REGION=us-east-1)`,
		},
		{
			name: "AWSRegionInvalid",
			load: loadDoctor,
			env:  map[string]string{"AWS_REGION": "Frankfurt"},
			want: `AWS_REGION: "Frankfurt" is not an AWS region (example: AWS_REGION=us-east-1)`,
		},
		{
			name: "AWSDefaultRegionInvalid",
			load: loadDoctor,
			env:  map[string]string{"AIFLOW_MODE": "aws", "AWS_DEFAULT_REGION": "us-east"},
			want: `AWS_DEFAULT_REGION: "us-east" is not an AWS region (example: AWS_DEFAULT_REGION=us-east-1)`,
		},
		{
			name: "AIProvider",
			load: loadDoctor,
			env:  map[string]string{"AIFLOW_AI_PROVIDER": "gpt"},
			want: `AIFLOW_AI_PROVIDER: "gpt" is not one of scripted, openai, anthropic, bedrock (example: AIFLOW_AI_PROVIDER=scripted)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tt.load(env(tt.env))
			ps := problems(t, err)
			require.Len(t, ps, 1, "error: %v", err)
			require.Equal(t, tt.want, ps[0].String())
			require.True(t, strings.HasSuffix(err.Error(), "1 configuration problem:\n  "+tt.want), "error: %v", err)
			require.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestLoadReportsAllProblemsInReadOrder(t *testing.T) {
	t.Parallel()

	t.Run("Dev", func(t *testing.T) {
		t.Parallel()

		cfg, err := LoadDev(env(map[string]string{
			// Set in an order unlike the read order, which must not matter.
			"AIFLOW_LOG_FORMAT":       "xml",
			"AIFLOW_LOG_LEVEL":        "loud",
			"AIFLOW_SHUTDOWN_TIMEOUT": "soon",
			"AIFLOW_PG_BINDIR":        "/definitely/not/here",
			"AIFLOW_HTTP_ADDR":        "abc",
			"DATABASE_URL":            "mysql://root:hunter2@db/aiflow",
		}))
		require.Equal(t, []string{
			"DATABASE_URL", "AIFLOW_HTTP_ADDR", "AIFLOW_PG_BINDIR",
			"AIFLOW_SHUTDOWN_TIMEOUT", "AIFLOW_LOG_LEVEL", "AIFLOW_LOG_FORMAT",
		}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow dev: 6 configuration problems:\n"), "error: %v", err)
		require.Len(t, strings.Split(err.Error(), "\n"), 7)
		require.NotContains(t, err.Error(), "hunter2")

		// Invalid values fall back to defaults.
		require.Equal(t, Dev{
			DataDir:         ".aiflow",
			HTTPAddr:        "127.0.0.1:8080",
			ShutdownTimeout: 10 * time.Second,
			EngineAddr:      "127.0.0.1:8083",
			RateLimit:       DefaultRateLimit,
			RateBurst:       DefaultRateBurst,
			Workers:         noLocalWorkers,
			Log:             Log{Level: slog.LevelInfo, Format: telemetry.FormatAuto},
		}, cfg)
	})
	t.Run("API", func(t *testing.T) {
		t.Parallel()

		_, err := LoadAPI(env(map[string]string{
			"AIFLOW_DB_MAX_CONNS": "-1",
			"AIFLOW_LOG_LEVEL":    "trace",
		}))
		require.Equal(t, []string{"DATABASE_URL", "AIFLOW_LOG_LEVEL", "AIFLOW_DB_MAX_CONNS"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "functions/api: 3 configuration problems:\n"), "error: %v", err)
	})
	t.Run("Doctor", func(t *testing.T) {
		t.Parallel()

		_, err := LoadDoctor(env(map[string]string{
			"AIFLOW_MODE":        "aws",
			"AIFLOW_AI_PROVIDER": "gemini",
			"DATABASE_URL":       "sqlite://x",
			"AIFLOW_LOG_FORMAT":  "pretty",
		}))
		require.Equal(t, []string{"DATABASE_URL", "AWS_REGION", "AIFLOW_AI_PROVIDER", "AIFLOW_LOG_FORMAT"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow doctor: 4 configuration problems:\n"), "error: %v", err)
	})
	t.Run("Migrate", func(t *testing.T) {
		t.Parallel()

		_, err := LoadMigrate(env(map[string]string{
			"AIFLOW_LOG_LEVEL": "verbose",
			"DATABASE_URL":     "postgres//db",
		}))
		require.Equal(t, []string{"DATABASE_URL", "AIFLOW_LOG_LEVEL"}, vars(problems(t, err)))
		require.True(t, strings.HasPrefix(err.Error(), "aiflow migrate: 2 configuration problems:\n"), "error: %v", err)
	})
}

func vars(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Var
	}
	return out
}

func TestDatabaseURLPasswordNeverShown(t *testing.T) {
	t.Parallel()

	values := []string{
		"mysql://aiflow:hunter2@db/aiflow",
		"postgres://aiflow:hunter2@/aiflow",
		"postgres://aiflow:hunter2@db:5432x/aiflow",
		"postgres://aiflow:hunter2@db/aiflow\x7f",
		"postgres://aiflow:hunt@er2@:5432/aiflow",
		"postgres:///aiflow?password=hunter2",
		"host=db password=hunter2",
		"host=db passwd=hunter2",
		"aiflow:hunter2@db/aiflow",
		"hunter2",
	}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			t.Parallel()

			for name, load := range map[string]func(LookupFunc) error{
				"Dev":    func(l LookupFunc) error { _, err := LoadDev(l); return err },
				"API":    func(l LookupFunc) error { _, err := LoadAPI(l); return err },
				"Doctor": func(l LookupFunc) error { _, err := LoadDoctor(l); return err },
			} {
				err := load(env(map[string]string{"DATABASE_URL": v}))
				require.Error(t, err, name)
				require.Contains(t, err.Error(), "DATABASE_URL: ", name)
				require.NotContains(t, err.Error(), "hunter2", name)
				require.NotContains(t, err.Error(), "er2", name)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()

	err := &Error{Binary: "aiflow dev", Problems: []Problem{
		{Var: "A", Problem: `"x" is bad`, Example: "y"},
		{Var: "B", Problem: "required but not set"},
	}}
	require.Equal(t, "aiflow dev: 2 configuration problems:\n"+
		"  A: \"x\" is bad (example: A=y)\n"+
		"  B: required but not set", err.Error())

	var target *Error
	require.True(t, errors.As(error(err), &target))
}

func TestLogValueMasksSecrets(t *testing.T) {
	t.Parallel()

	const dsn = "postgres://aiflow:hunter2@db/aiflow"
	values := map[string]slog.Value{
		"Dev":     Dev{DatabaseURL: dsn}.LogValue(),
		"Migrate": Migrate{DatabaseURL: dsn}.LogValue(),
		"API":     API{Database: Database{URL: dsn}}.LogValue(),
		"Doctor":  Doctor{DatabaseURL: dsn, OpenAIKey: "sk-hunter2", AnthropicKey: "sk-hunter2"}.LogValue(),
	}
	for name, v := range values {
		require.NotContains(t, v.String(), "hunter2", name)
		require.Contains(t, v.String(), "postgres://aiflow:xxxxx@db/aiflow", name)
	}
}
