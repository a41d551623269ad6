package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReaderBool(t *testing.T) {
	t.Parallel()

	tests := []struct {
		value string
		def   bool
		want  bool
		bad   bool
	}{
		{value: "", def: true, want: true},
		{value: "true", want: true},
		{value: "YES", want: true},
		{value: "1", want: true},
		{value: "false", def: true, want: false},
		{value: "No", def: true, want: false},
		{value: "0", def: true, want: false},
		{value: "maybe", def: true, want: true, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()

			r := newReader(env(map[string]string{"AIFLOW_FLAG": tt.value}))
			require.Equal(t, tt.want, r.bool("AIFLOW_FLAG", tt.def))
			if !tt.bad {
				require.Empty(t, r.problems)
				return
			}
			require.Equal(t, []Problem{{
				Var:     "AIFLOW_FLAG",
				Problem: `"maybe" is not one of true, false, 1, 0, yes, no`,
				Example: "false",
			}}, r.problems)
		})
	}
}

func TestReaderRequiredString(t *testing.T) {
	t.Parallel()

	r := newReader(env(map[string]string{"SET": "v"}))
	require.Equal(t, "v", r.requiredString("SET", "x"))
	require.Empty(t, r.requiredString("UNSET", "x"))
	require.Equal(t, []Problem{{Var: "UNSET", Problem: "required but not set", Example: "x"}}, r.problems)
	require.EqualError(t, r.err("bin"), "bin: 1 configuration problem:\n  UNSET: required but not set (example: UNSET=x)")
}

func TestReaderSecret(t *testing.T) {
	t.Parallel()

	r := newReader(env(map[string]string{"OPENAI_API_KEY": " sk-123\n"}))
	require.Equal(t, "sk-123", r.secret("OPENAI_API_KEY").Reveal())
	require.Empty(t, r.secret("ANTHROPIC_API_KEY").Reveal())
	require.Empty(t, r.problems)
	require.NoError(t, r.err("bin"))
}

func TestReaderHidesSecretValues(t *testing.T) {
	t.Parallel()

	tests := []struct {
		key  string
		want string
	}{
		{key: "AIFLOW_API_KEY", want: "(value hidden)"},
		{key: "AIFLOW_DB_PASSWORD", want: "(value hidden)"},
		{key: "AIFLOW_CLIENT_SECRET", want: "(value hidden)"},
		{key: "AIFLOW_TOKEN_TTL", want: "(value hidden)"},
		{key: "AIFLOW_MODE", want: `"hunter2"`},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()

			r := newReader(env(map[string]string{tt.key: "hunter2"}))
			r.int(tt.key, 1, 1, 2)
			require.Len(t, r.problems, 1)
			require.Equal(t, tt.want+" is not an integer", r.problems[0].Problem)
		})
	}
}

func TestShowDatabaseURL(t *testing.T) {
	t.Parallel()

	require.Equal(t, `"postgres://u:xxxxx@h/db"`, show("DATABASE_URL", "postgres://u:p@h/db"))
	require.Equal(t, `"postgres://h/db"`, show("DATABASE_URL", "postgres://h/db"))
	require.Equal(t, "(value hidden)", show("DATABASE_URL", "u:p@h/db"))
	require.Equal(t, `"plain"`, show("AIFLOW_DATA_DIR", "plain"))
}
