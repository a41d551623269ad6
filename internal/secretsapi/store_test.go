package secretsapi_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/secretsapi"
)

// runStoreSuite is the conformance suite of Store: every implementation
// must pass it.
func runStoreSuite(t *testing.T, newStore func(t *testing.T) secretsapi.Store) {
	t.Helper()
	value := func(s string) *string { return &s }
	secret := func(name, v string) secretsapi.Secret {
		return secretsapi.Secret{
			Name: name, ARN: "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-abcdef",
			CreatedDate: start, LastChangedDate: start,
			Versions: []secretsapi.Version{{ID: "v1", Stages: []string{secretsapi.StageCurrent}, SecretString: value(v), CreatedDate: start}},
		}
	}

	t.Run("CreateGetList", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		require.NoError(t, s.Create(ctx, secret("b", "2")))
		require.NoError(t, s.Create(ctx, secret("a", "1")))
		got, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, "1", *got.Versions[0].SecretString)
		require.True(t, start.Equal(got.CreatedDate))
		all, err := s.List(ctx)
		require.NoError(t, err)
		require.Len(t, all, 2)
		require.Equal(t, "a", all[0].Name)
		require.Equal(t, "b", all[1].Name)
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		_, err := s.Get(ctx, "missing")
		require.ErrorIs(t, err, secretsapi.ErrNotFound)
		require.ErrorIs(t, s.Update(ctx, secret("missing", "x")), secretsapi.ErrNotFound)
		require.NoError(t, s.Create(ctx, secret("a", "1")))
		require.ErrorIs(t, s.Create(ctx, secret("a", "other")), secretsapi.ErrExists)
		got, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, "1", *got.Versions[0].SecretString, "a refused Create changes nothing")
	})

	t.Run("UpdateAndIsolation", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		require.NoError(t, s.Create(ctx, secret("a", "1")))
		got, err := s.Get(ctx, "a")
		require.NoError(t, err)
		*got.Versions[0].SecretString = "changed by the caller"
		got.Versions[0].Stages[0] = "X"
		again, err := s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, "1", *again.Versions[0].SecretString, "a returned secret is the caller's")
		require.Equal(t, secretsapi.StageCurrent, again.Versions[0].Stages[0])

		require.NoError(t, s.Update(ctx, secret("a", "2")))
		again, err = s.Get(ctx, "a")
		require.NoError(t, err)
		require.Equal(t, "2", *again.Versions[0].SecretString)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		s := newStore(t)
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() { errs <- s.Create(ctx, secret("same", "x")) })
		}
		wg.Wait()
		close(errs)
		ok := 0
		for err := range errs {
			if err == nil {
				ok++
			} else {
				require.ErrorIs(t, err, secretsapi.ErrExists)
			}
		}
		require.Equal(t, 1, ok, "exactly one Create of a name succeeds")
	})
}

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, func(*testing.T) secretsapi.Store { return secretsapi.NewMemoryStore() })
}

func TestFileStoreConformance(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, func(t *testing.T) secretsapi.Store {
		s, err := secretsapi.OpenFileStore(filepath.Join(t.TempDir(), "secrets.json"))
		require.NoError(t, err)
		return s
	})
}

func requireMode(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm(), path)
}

func TestFileStoreSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	path := filepath.Join(dir, "secrets.json")

	first, err := secretsapi.OpenFileStore(path)
	require.NoError(t, err)
	requireMode(t, path)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "the directory is made for the owner only")

	b := setupWith(t, first)
	arn := b.create(t, "aiflow/db", "pw-1")
	_, err = b.client.PutSecretValue(b.ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("pw-2")})
	require.NoError(t, err)
	requireMode(t, path)
	b.srv.Close()

	// A new process: the store read again from the file, a new server.
	second, err := secretsapi.OpenFileStore(path)
	require.NoError(t, err)
	b2 := setupWith(t, second)
	out, err := b2.client.GetSecretValue(b2.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	require.NoError(t, err)
	require.Equal(t, "pw-2", *out.SecretString)
	require.Equal(t, arn, *out.ARN, "the ARN survives too")
	prev, err := b2.client.GetSecretValue(b2.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/db"), VersionStage: aws.String("AWSPREVIOUS")})
	require.NoError(t, err)
	require.Equal(t, "pw-1", *prev.SecretString)
	requireMode(t, path)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

func TestFileStoreTightensPermissions(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"secrets":[]}`), 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	_, err := secretsapi.OpenFileStore(path)
	require.NoError(t, err)
	requireMode(t, path)
}

func TestFileStoreRefusesAnotherFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets.json")
	require.NoError(t, os.WriteFile(path, []byte(`password=hunter2-secret`), 0o600))
	_, err := secretsapi.OpenFileStore(path)
	require.Error(t, err)
	require.Contains(t, err.Error(), path)
	require.NotContains(t, err.Error(), "hunter2", "the file's content is not quoted")
}
