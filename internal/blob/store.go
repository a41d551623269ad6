package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/aiflow/aiflow/internal/atomicfile"
)

// Store keeps values under keys. The step runtime puts the results it
// offloads; the runtime, the API and `aiflow run` get them back.
type Store interface {
	// Put stores body, JSON text, under key and returns the URI a
	// reference names it by. Putting a key again with the same body is
	// harmless: keys are content-addressed (Key).
	Put(ctx context.Context, key string, body []byte) (uri string, err error)
	Getter
}

// Getter reads stored values: what Resolve needs of a Store.
type Getter interface {
	// Get returns the body stored at uri. Its error wraps ErrNotFound when
	// there is none, and ErrForeign when uri is not of this store.
	Get(ctx context.Context, uri string) ([]byte, error)
}

// ExecutionDeleter deletes the values of an execution, when its history
// is archived or its retention ends (`aiflow archive`).
type ExecutionDeleter interface {
	// DeleteExecution deletes every value of the execution and returns how
	// many there were.
	DeleteExecution(ctx context.Context, executionARN string) (int, error)
}

// Errors a Store's Get, and Resolve, wrap.
var (
	// ErrNotFound: no value is stored at the URI (deleted with its
	// execution, or never stored).
	ErrNotFound = errors.New("no such blob")
	// ErrForeign: the URI is not of this store (an s3:// URI read with a
	// PostgreSQL store, another bucket).
	ErrForeign = errors.New("the blob is in another store")
	// ErrCorrupt: the stored value is not the one the reference describes.
	ErrCorrupt = errors.New("the blob does not match its reference")
	// ErrTooLarge: resolving the references would make a payload larger
	// than the caller's limit.
	ErrTooLarge = errors.New("the resolved payload is too large")
	// ErrMalformed: a reference, or the document holding it, cannot be
	// read.
	ErrMalformed = errors.New("malformed blob reference")
)

// LocalKey returns the key of an aiflow-blob: URI, or ErrForeign.
func LocalKey(uri string) (string, error) {
	key, ok := strings.CutPrefix(uri, LocalScheme)
	if !ok || key == "" {
		return "", fmt.Errorf("reading %s: %w: this store reads %skey URIs", uri, ErrForeign, LocalScheme)
	}
	return key, nil
}

// Memory is a Store in memory, for `aiflow run` and tests. Its zero value
// is empty and ready.
type Memory struct {
	mu     sync.Mutex
	values map[string][]byte
}

// Put keeps a copy of body under key.
func (m *Memory) Put(_ context.Context, key string, body []byte) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = map[string][]byte{}
	}
	m.values[key] = append([]byte(nil), body...)
	return LocalScheme + key, nil
}

// Get returns a copy of the value at uri.
func (m *Memory) Get(_ context.Context, uri string) ([]byte, error) {
	key, err := LocalKey(uri)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok {
		return nil, fmt.Errorf("reading %s: %w", uri, ErrNotFound)
	}
	return append([]byte(nil), v...), nil
}

// Len returns how many values m holds.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.values)
}

// DeleteExecution deletes the execution's values.
func (m *Memory) DeleteExecution(_ context.Context, executionARN string) (int, error) {
	prefix := ExecutionPrefix(executionARN) + "/"
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k := range m.values {
		if strings.HasPrefix(k, prefix) {
			delete(m.values, k)
			n++
		}
	}
	return n, nil
}

// Dir is a Store in a folder: each value a file at its key, written
// whole or not at all.
type Dir struct {
	dir string
}

// NewDir returns a store in dir, made on first Put.
func NewDir(dir string) *Dir { return &Dir{dir: dir} }

func (d *Dir) path(key string) (string, error) {
	p := filepath.FromSlash(key)
	if !filepath.IsLocal(p) {
		return "", fmt.Errorf("%q is not a key inside the blob folder", key)
	}
	return filepath.Join(d.dir, p), nil
}

// Put writes body to the file of key.
func (d *Dir) Put(_ context.Context, key string, body []byte) (string, error) {
	p, err := d.path(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", fmt.Errorf("making the blob folder: %w", err)
	}
	if err := atomicfile.WriteFile(p, body, 0o640); err != nil {
		return "", fmt.Errorf("writing the blob %s: %w", key, err)
	}
	return LocalScheme + key, nil
}

// Get reads the file of uri's key.
func (d *Dir) Get(_ context.Context, uri string) ([]byte, error) {
	key, err := LocalKey(uri)
	if err != nil {
		return nil, err
	}
	p, err := d.path(key)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	body, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", uri, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", uri, err)
	}
	return body, nil
}

// DeleteExecution removes the execution's folder.
func (d *Dir) DeleteExecution(_ context.Context, executionARN string) (int, error) {
	dir := filepath.Join(d.dir, ExecutionPrefix(executionARN))
	n := 0
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("deleting the blobs of %s: %w", executionARN, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return 0, fmt.Errorf("deleting the blobs of %s: %w", executionARN, err)
	}
	return n, nil
}
