package telemetry

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, in, want string
	}{
		{
			name: "URLWithPassword",
			in:   "postgres://u:p@h/db",
			want: "postgres://u:xxxxx@h/db",
		},
		{
			name: "PostgresqlSchemePortQuery",
			in:   "postgresql://aiflow:s3cr%2Ft@localhost:5432/aiflow?sslmode=disable",
			want: "postgresql://aiflow:xxxxx@localhost:5432/aiflow?sslmode=disable",
		},
		{
			name: "PasswordWithAtSign",
			in:   "postgres://u:p@ss@h/db",
			want: "postgres://u:xxxxx@h/db",
		},
		{
			name: "EmptyUser",
			in:   "redis://:p@h:6379",
			want: "redis://:xxxxx@h:6379",
		},
		{
			name: "UserWithoutPassword",
			in:   "postgres://u@h/db",
			want: "postgres://u@h/db",
		},
		{
			name: "NoUserinfo",
			in:   "https://example.com:443/a/b?q=1",
			want: "https://example.com:443/a/b?q=1",
		},
		{
			name: "AtSignInPathIsNotUserinfo",
			in:   "https://registry.npmjs.org:443/@types/node",
			want: "https://registry.npmjs.org:443/@types/node",
		},
		{
			name: "PasswordInQuery",
			in:   "postgres://h/db?user=u&password=p&sslmode=disable",
			want: "postgres://h/db?user=u&password=xxxxx&sslmode=disable",
		},
		{
			name: "KeywordValueDSN",
			in:   "host=x password=p dbname=aiflow",
			want: "host=x password=xxxxx dbname=aiflow",
		},
		{
			name: "KeywordValueDSNFirst",
			in:   "password=p host=x",
			want: "password=xxxxx host=x",
		},
		{
			name: "KeywordValueDSNQuotedWithSpaces",
			in:   `host=x password = 'p q\'r' dbname=aiflow`,
			want: "host=x password = xxxxx dbname=aiflow",
		},
		{
			name: "KeywordValueDSNUpperCase",
			in:   "PGPASSWORD=p psql",
			want: "PGPASSWORD=xxxxx psql",
		},
		{
			name: "URLInsideText",
			in:   `connecting to "postgres://u:p@h:5432/db": refused`,
			want: `connecting to "postgres://u:xxxxx@h:5432/db": refused`,
		},
		{
			name: "PlainText",
			in:   "nothing to see: a=b, c:d@e",
			want: "nothing to see: a=b, c:d@e",
		},
		{
			name: "Empty",
			in:   "",
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, RedactURL(tt.in))
		})
	}
}

func ExampleRedactURL() {
	fmt.Println(RedactURL("postgres://aiflow:secret@localhost:5432/aiflow?sslmode=disable"))
	fmt.Println(RedactURL("host=localhost password=secret dbname=aiflow"))
	// Output:
	// postgres://aiflow:xxxxx@localhost:5432/aiflow?sslmode=disable
	// host=localhost password=xxxxx dbname=aiflow
}

func ExampleSecret() {
	key := Secret("sk-live-123")
	fmt.Printf("%v %s %q %#v\n", key, key, key, key)
	fmt.Println(len(key.Reveal()))
	// Output:
	// [REDACTED] [REDACTED] [REDACTED] [REDACTED]
	// 11
}
