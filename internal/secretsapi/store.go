package secretsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/aiflow/aiflow/internal/atomicfile"
)

// Store keeps secrets by name. Get and Update return an error wrapping
// ErrNotFound for a name that has no secret, Create one wrapping ErrExists
// for a name that has one. Secrets returned are the caller's to change.
type Store interface {
	Get(ctx context.Context, name string) (Secret, error)
	// List returns every secret, ordered by name.
	List(ctx context.Context) ([]Secret, error)
	Create(ctx context.Context, s Secret) error
	Update(ctx context.Context, s Secret) error
}

// MemoryStore is a Store in memory. Its zero value is ready; it is safe
// for concurrent use.
type MemoryStore struct {
	mu      sync.Mutex
	secrets map[string]Secret
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get returns the secret by name.
func (m *MemoryStore) Get(_ context.Context, name string) (Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.secrets[name]
	if !ok {
		return Secret{}, fmt.Errorf("getting secret %q: %w", name, ErrNotFound)
	}
	return s.clone(), nil
}

// List returns every secret, ordered by name.
func (m *MemoryStore) List(context.Context) ([]Secret, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.list(), nil
}

func (m *MemoryStore) list() []Secret {
	out := make([]Secret, 0, len(m.secrets))
	for _, s := range m.secrets {
		out = append(out, s.clone())
	}
	slices.SortFunc(out, func(a, b Secret) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Create adds s, unless a secret by its name exists.
func (m *MemoryStore) Create(_ context.Context, s Secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.create(s)
}

func (m *MemoryStore) create(s Secret) error {
	if _, ok := m.secrets[s.Name]; ok {
		return fmt.Errorf("creating secret %q: %w", s.Name, ErrExists)
	}
	if m.secrets == nil {
		m.secrets = map[string]Secret{}
	}
	m.secrets[s.Name] = s.clone()
	return nil
}

// Update replaces the secret by s's name.
func (m *MemoryStore) Update(_ context.Context, s Secret) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.update(s)
}

func (m *MemoryStore) update(s Secret) error {
	if _, ok := m.secrets[s.Name]; !ok {
		return fmt.Errorf("updating secret %q: %w", s.Name, ErrNotFound)
	}
	m.secrets[s.Name] = s.clone()
	return nil
}

// FileStore is a Store kept in one JSON file, readable and writable by
// its owner only (0600). Every change rewrites the whole file through a
// temporary file in the same directory and a rename, so a crash leaves
// either the old file or the new one, never half of one. It is safe for
// concurrent use within one process; two processes must not share a
// file.
type FileStore struct {
	path string

	mu  sync.Mutex
	mem MemoryStore
}

// fileFormat is the file's content.
type fileFormat struct {
	Secrets []Secret `json:"secrets"`
}

// OpenFileStore opens the store at path, making the file (and its
// directory, 0700) when there is none, and setting its permissions to
// 0600 when they were wider. It returns an error naming the path when
// the file cannot be made or read, or does not hold a store.
func OpenFileStore(path string) (*FileStore, error) {
	f := &FileStore{path: path}
	raw, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("making the directory of secrets file %s: %w", path, err)
		}
		if err := f.write(); err != nil {
			return nil, err
		}
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("reading secrets file %s: %w", path, err)
	}
	var content fileFormat
	if err := json.Unmarshal(raw, &content); err != nil {
		// The decoder's message may quote the file; the file holds values.
		return nil, fmt.Errorf("reading secrets file %s: it is not a JSON store of secrets", path)
	}
	for _, s := range content.Secrets {
		if err := f.mem.create(s); err != nil {
			return nil, fmt.Errorf("reading secrets file %s: %w", path, err)
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading secrets file %s: %w", path, err)
	}
	if info.Mode().Perm() != 0o600 {
		if err := os.Chmod(path, 0o600); err != nil {
			return nil, fmt.Errorf("restricting secrets file %s to its owner: %w", path, err)
		}
	}
	return f, nil
}

// Path returns the file's path.
func (f *FileStore) Path() string { return f.path }

// Get returns the secret by name.
func (f *FileStore) Get(ctx context.Context, name string) (Secret, error) {
	return f.mem.Get(ctx, name)
}

// List returns every secret, ordered by name.
func (f *FileStore) List(ctx context.Context) ([]Secret, error) {
	return f.mem.List(ctx)
}

// Create adds s and writes the file, unless a secret by its name exists.
func (f *FileStore) Create(_ context.Context, s Secret) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mem.mu.Lock()
	err := f.mem.create(s)
	f.mem.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.write(); err != nil {
		f.mem.mu.Lock()
		delete(f.mem.secrets, s.Name)
		f.mem.mu.Unlock()
		return err
	}
	return nil
}

// Update replaces the secret by s's name and writes the file.
func (f *FileStore) Update(_ context.Context, s Secret) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mem.mu.Lock()
	old, ok := f.mem.secrets[s.Name]
	err := f.mem.update(s)
	f.mem.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.write(); err != nil {
		if ok {
			f.mem.mu.Lock()
			f.mem.secrets[s.Name] = old
			f.mem.mu.Unlock()
		}
		return err
	}
	return nil
}

// write replaces the file with the store's content.
func (f *FileStore) write() error {
	f.mem.mu.Lock()
	content := fileFormat{Secrets: f.mem.list()}
	f.mem.mu.Unlock()
	raw, err := json.MarshalIndent(content, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding secrets file %s: %w", f.path, err)
	}
	if err := atomicfile.WriteFile(f.path, append(raw, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing secrets file: %w", err)
	}
	return nil
}
