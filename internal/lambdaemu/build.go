package lambdaemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// EmulatorModule is the Go module of the AWS Lambda Runtime Interface
// Emulator; go.mod pins its version as a tool.
const EmulatorModule = "github.com/aws/aws-lambda-runtime-interface-emulator"

// emulatorPackage is the emulator's main package in its module.
const emulatorPackage = EmulatorModule + "/cmd/aws-lambda-rie"

// BuildFlags are the go build flags of a Lambda's bootstrap, those of
// LAMBDA_GOFLAGS in the Makefile (a test keeps the two equal). The builds
// also set CGO_ENABLED=0.
func BuildFlags() []string {
	return []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w -buildid="}
}

// Builder builds the emulator and the functions' bootstraps for this
// machine. Its zero value is not usable: set ModuleDir. It is safe for
// concurrent use, and builds the emulator once.
type Builder struct {
	// ModuleDir is the root of the module whose go.mod pins the emulator
	// and holds the functions (the repository's root). Required.
	ModuleDir string
	// CacheDir keeps the emulator's binary across runs, one file per
	// module version and platform. Empty means the user's cache directory
	// (aiflow/lambdaemu under it), or the temporary directory when there
	// is none.
	CacheDir string
	// GoCommand is the go command; empty means "go".
	GoCommand string

	mu       sync.Mutex
	emulator string
}

// Emulator returns the path of the emulator's binary, building it into the
// cache directory the first time a version is asked for. The errors name
// the go command that failed and its output.
func (b *Builder) Emulator(ctx context.Context) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.emulator != "" {
		return b.emulator, nil
	}
	if err := supported(); err != nil {
		return "", err
	}
	out, err := b.goCommand(ctx, "list", "-m", "-f", "{{.Version}}", EmulatorModule)
	if err != nil {
		return "", fmt.Errorf("finding the emulator's version in go.mod: %w", err)
	}
	version := strings.TrimSpace(out)
	if version == "" {
		return "", fmt.Errorf("finding the emulator's version in go.mod: %s is not required by %s", EmulatorModule, b.ModuleDir)
	}
	dir, err := b.cacheDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "aws-lambda-rie-"+version+"-"+runtime.GOOS+"-"+runtime.GOARCH)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		b.emulator = path
		return path, nil
	}
	// Build beside the final path and rename, so that a concurrent run
	// never sees half a binary.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("building the emulator: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "aws-lambda-rie")
	if err := b.build(ctx, emulatorPackage, bin); err != nil {
		return "", fmt.Errorf("building the emulator %s@%s: %w", EmulatorModule, version, err)
	}
	if err := os.Rename(bin, path); err != nil {
		return "", fmt.Errorf("building the emulator: %w", err)
	}
	b.emulator = path
	return path, nil
}

// Bootstrap builds the main package pkg (as go build names it, such as
// "./functions/api") into the file output, for this machine, with
// BuildFlags and CGO_ENABLED=0. The error names the package and carries
// the compiler's output.
func (b *Builder) Bootstrap(ctx context.Context, pkg, output string) error {
	if err := supported(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(output), 0o755); err != nil {
		return fmt.Errorf("building the bootstrap of %s: %w", pkg, err)
	}
	if err := b.build(ctx, pkg, output); err != nil {
		return fmt.Errorf("building the bootstrap of %s: %w", pkg, err)
	}
	return nil
}

// build runs go build of pkg into output for this machine.
func (b *Builder) build(ctx context.Context, pkg, output string) error {
	args := append([]string{"build"}, BuildFlags()...)
	args = append(args, "-o", output, pkg)
	_, err := b.goCommand(ctx, args...)
	return err
}

// goCommand runs the go command in the module's directory, for this
// machine's platform without cgo, and returns its standard output.
func (b *Builder) goCommand(ctx context.Context, args ...string) (string, error) {
	if b.ModuleDir == "" {
		return "", errors.New("the Builder has no ModuleDir")
	}
	name := b.GoCommand
	if name == "" {
		name = "go"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = b.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("running %s %s in %s: %w: %s", name, strings.Join(args, " "), b.ModuleDir, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// cacheDir is the directory the emulator's binaries are kept in, made when
// missing.
func (b *Builder) cacheDir() (string, error) {
	dir := b.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "aiflow", "lambdaemu")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("making the emulator's cache directory: %w", err)
	}
	return dir, nil
}

// supported says why this machine cannot run the emulator, if it cannot.
func supported() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the Lambda Runtime Interface Emulator runs on Linux only, not on %s", runtime.GOOS)
	}
	return nil
}
