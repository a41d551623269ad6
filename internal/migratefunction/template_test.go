package migratefunction_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/migratefunction"
)

// TestTemplateMigrationsVersionIsTheNewestMigration keeps template.yaml's
// DatabaseMigrations in step with infra/migrations: a new migration must
// change the property, or CloudFormation sends no Update and the deploy
// leaves it unapplied (the handler refuses a stale version as well).
func TestTemplateMigrationsVersionIsTheNewestMigration(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../template.yaml")
	require.NoError(t, err)
	var doc struct {
		Resources map[string]struct {
			Type       string               `yaml:"Type"`
			Properties map[string]yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &doc))
	res, ok := doc.Resources["DatabaseMigrations"]
	require.True(t, ok, "template.yaml has no DatabaseMigrations resource")
	require.Equal(t, "Custom::Migrations", res.Type)
	v := res.Properties[migratefunction.PropertyMigrationsVersion]
	require.Equal(t, latest(), v.Value, "set DatabaseMigrations' %s to %q in template.yaml", migratefunction.PropertyMigrationsVersion, latest())
	require.Equal(t, "!GetAtt", res.Properties["ServiceToken"].Tag)
	require.Equal(t, "MigrateFunction.Arn", res.Properties["ServiceToken"].Value)
}
