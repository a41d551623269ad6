package archivesink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/eventstore"
)

var _ eventstore.ArchiveSink = (*Dir)(nil)

// Dir is an eventstore.ArchiveSink on a local folder, made on first Put.
type Dir struct {
	dir string
}

// NewDir returns a sink that keeps its files in dir.
func NewDir(dir string) *Dir { return &Dir{dir: dir} }

// Path returns where name is stored.
func (d *Dir) Path(name string) string { return filepath.Join(d.dir, filepath.FromSlash(name)) }

func (d *Dir) path(name string) (string, error) {
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", fmt.Errorf("%q is not a name inside the archive folder", name)
	}
	return d.Path(name), nil
}

// Put writes body to a temporary file beside name, flushes it to disk and
// renames it over name, so name holds the old content or the whole new
// one, never part of it.
func (d *Dir) Put(ctx context.Context, name string, body io.Reader) (err error) {
	dst, err := d.path(name)
	if err != nil {
		return err
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("making the archive folder: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, ctxReader{ctx, body}); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("flushing %s: %w", dst, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", dst, err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("renaming into %s: %w", dst, err)
	}
	// The rename is durable once the folder is flushed.
	if dirf, err := os.Open(dir); err == nil {
		serr := dirf.Sync()
		dirf.Close()
		if serr != nil {
			return fmt.Errorf("flushing %s: %w", dir, serr)
		}
	}
	return nil
}

// Get opens name. It returns an error matching eventstore.ErrArchiveObjectNotFound
// when there is no such file.
func (d *Dir) Get(_ context.Context, name string) (io.ReadCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("opening %s: %w", p, eventstore.ErrArchiveObjectNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	return f, nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
