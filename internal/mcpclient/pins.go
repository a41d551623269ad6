package mcpclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/aiflow/aiflow/internal/atomicfile"
)

// PinStore keeps the approved definition hash of each tool. Pin returns
// ok false when the tool has no pin. MemoryPins and FilePins are the two
// stores; an error of either is reported as the pool's own failure.
type PinStore interface {
	Pin(ctx context.Context, server, tool string) (hash string, ok bool, err error)
	SetPin(ctx context.Context, server, tool, hash string) error
}

// DefinitionHash is the hash a tool's definition is pinned by: SHA-256 of
// the canonical JSON (object keys sorted, no spaces, numbers as written)
// of its name, title, description, input and output schemas and
// annotations, as "sha256:<hex>". The annotations are in it because they
// decide whether a call may be sent twice.
func DefinitionHash(t *mcp.Tool) (string, error) {
	def := map[string]any{
		"name":         t.Name,
		"title":        t.Title,
		"description":  t.Description,
		"inputSchema":  t.InputSchema,
		"outputSchema": t.OutputSchema,
		"annotations":  t.Annotations,
	}
	canon, err := canonicalJSON(def)
	if err != nil {
		return "", fmt.Errorf("hashing the definition of tool %q: %w", t.Name, err)
	}
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// canonicalJSON encodes v, decodes it with numbers kept as written, and
// encodes it again: encoding/json sorts object keys and adds no spaces.
func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(generic); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MemoryPins is a PinStore in memory (tests, a Lambda that trusts each
// tool on first use). The zero value is empty and ready; it is safe for
// concurrent use.
type MemoryPins struct {
	mu   sync.Mutex
	pins map[string]map[string]string
}

// Pin returns the tool's pin. It never fails.
func (m *MemoryPins) Pin(_ context.Context, server, tool string) (string, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.pins[server][tool]
	return h, ok, nil
}

// SetPin pins the tool to hash. It never fails.
func (m *MemoryPins) SetPin(_ context.Context, server, tool, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pins == nil {
		m.pins = map[string]map[string]string{}
	}
	if m.pins[server] == nil {
		m.pins[server] = map[string]string{}
	}
	m.pins[server][tool] = hash
	return nil
}

// FilePins is a PinStore in a JSON file, {"servers": {server: {tool:
// hash}}}, which the CLI keeps (and a deployment may ship read-only).
// A missing file has no pins. Writes replace the file atomically. It is
// safe for concurrent use within one process.
type FilePins struct {
	Path string
	mu   sync.Mutex
}

type pinFile struct {
	Servers map[string]map[string]string `json:"servers"`
}

func (f *FilePins) read() (pinFile, error) {
	var pf pinFile
	src, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return pinFile{Servers: map[string]map[string]string{}}, nil
	}
	if err != nil {
		return pf, fmt.Errorf("reading the pin file: %w", err)
	}
	if err := json.Unmarshal(src, &pf); err != nil {
		return pf, fmt.Errorf("reading the pin file %s: %w", f.Path, err)
	}
	if pf.Servers == nil {
		pf.Servers = map[string]map[string]string{}
	}
	return pf, nil
}

// Pin returns the tool's pin, or an error when the file cannot be read.
func (f *FilePins) Pin(_ context.Context, server, tool string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pf, err := f.read()
	if err != nil {
		return "", false, err
	}
	h, ok := pf.Servers[server][tool]
	return h, ok, nil
}

// SetPin pins the tool to hash, or returns an error when the file cannot
// be read or written.
func (f *FilePins) SetPin(_ context.Context, server, tool, hash string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	pf, err := f.read()
	if err != nil {
		return err
	}
	if pf.Servers[server] == nil {
		pf.Servers[server] = map[string]string{}
	}
	pf.Servers[server][tool] = hash
	out, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the pin file: %w", err)
	}
	dir := filepath.Dir(f.Path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("making the pin file's directory: %w", err)
	}
	if err := atomicfile.WriteFile(f.Path, append(out, '\n'), 0o600); err != nil {
		return fmt.Errorf("writing the pin file: %w", err)
	}
	return nil
}
