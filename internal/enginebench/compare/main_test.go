package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/pgcluster/pgclustertest"
)

func TestMain(m *testing.M) { pgclustertest.Main(m) }

// fakeNode writes an executable that answers --version with version and
// otherwise prints a result of the peers' script, as dir/node_modules/.bin/node.
// The tests that write one do not run in parallel: a fork of another test
// while the file is open for writing leaves it busy ("text file busy")
// for the exec that follows.
func fakeNode(t *testing.T, dir, version string) string {
	t.Helper()
	bin := filepath.Join(dir, "node_modules", ".bin")
	require.NoError(t, os.MkdirAll(bin, 0o755))
	path := filepath.Join(bin, "node")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then echo " + version + "; exit 0; fi\n" +
		"[ \"$1\" = peers.mjs ] || { echo \"not the peers script: $1\" >&2; exit 3; }\n" +
		"echo '{\"interpreter\":\"aws-local-stepfunctions 3.0.0\",\"node\":\"" + version + "\",\"executions\":50,\"inFlight\":10,\"elapsedMicros\":2000,\"cpuMicros\":1000}'\n"
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}

func TestRunPrintsOneTable(t *testing.T) {
	dir := t.TempDir()
	fakeNode(t, dir, "v22.23.3")
	// A relative folder, as make compare passes it.
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, dir)
	require.NoError(t, err)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-dir", rel, "-store", "memory", "-executions", "50", "-in-flight", "10", "-commit", "abc1234"}, &out, &errOut, func(string) string { return "" })
	require.Equal(t, 0, code, errOut.String())
	s := out.String()
	require.Contains(t, s, "commit    abc1234\n")
	require.Contains(t, s, "aws-local-stepfunctions 3.0.0 (Node.js v22.23.3)")
	require.Regexp(t, `(?m)^aiflow engine\s+memory\s+50\s+10\s`, s)
	require.NotRegexp(t, `(?m)^aiflow engine\s+PostgreSQL`, s)
	require.NotContains(t, s, "could not be run")
	require.Contains(t, s, "CPU per execution is the running process's own CPU time")
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{{"-store", "sqlite"}, {"-executions", "0"}, {"-in-flight", "-1"}, {"-nope"}} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(context.Background(), args, &out, &errOut, func(string) string { return "" }), "%v", args)
		require.Empty(t, out.String())
	}
}

func TestRunFailsWhenTheScriptFails(t *testing.T) {
	dir := t.TempDir()
	path := fakeNode(t, dir, "v22.23.3")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\nif [ \"$1\" = --version ]; then echo v22.23.3; exit 0; fi\necho boom >&2; exit 1\n"), 0o755))
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-dir", dir, "-store", "none", "-commit", "x"}, &out, &errOut, func(string) string { return "" })
	require.Equal(t, 1, code)
	require.Contains(t, errOut.String(), "running peers.mjs in "+dir)
	require.Contains(t, errOut.String(), "boom")
}

func TestPickNode(t *testing.T) {
	ctx := context.Background()
	noPath := func(string) (string, error) { return "", errors.New("not found") }

	installed := fakeNode(t, t.TempDir(), "v22.23.3")
	path, note, err := pickNode(ctx, installed, noPath)
	require.NoError(t, err)
	require.Equal(t, installed, path)
	require.Empty(t, note)

	missing := filepath.Join(t.TempDir(), "node")
	onPath20 := fakeNode(t, t.TempDir(), "v20.20.2")
	path, note, err = pickNode(ctx, missing, func(string) (string, error) { return onPath20, nil })
	require.NoError(t, err)
	require.Equal(t, onPath20, path)
	require.Contains(t, note, "Node.js 22 could not be run")
	require.Contains(t, note, "Node.js 20, ran the interpreter")

	installed18 := fakeNode(t, t.TempDir(), "v18.0.0")
	path, note, err = pickNode(ctx, installed18, func(string) (string, error) { return onPath20, nil })
	require.NoError(t, err)
	require.Equal(t, onPath20, path)
	require.Contains(t, note, "is Node.js 18, not 22")

	_, _, err = pickNode(ctx, missing, noPath)
	require.ErrorContains(t, err, "no node on PATH")
	onPath18 := fakeNode(t, t.TempDir(), "v18.0.0")
	_, _, err = pickNode(ctx, missing, func(string) (string, error) { return onPath18, nil })
	require.ErrorContains(t, err, "older than 20")
	notNode := fakeNode(t, t.TempDir(), "hello")
	_, _, err = pickNode(ctx, missing, func(string) (string, error) { return notNode, nil })
	require.ErrorContains(t, err, "not a Node.js version")
}

func TestGitCommit(t *testing.T) {
	c := gitCommit(context.Background())
	require.NotEmpty(t, c)
	require.False(t, strings.ContainsAny(c, " \n"), c)
}

func TestRunDurableInAScratchDatabase(t *testing.T) {
	dir := t.TempDir()
	fakeNode(t, dir, "v22.23.3")
	admin := pgclustertest.AdminURL(t)
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return admin
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-dir", dir, "-store", "postgres", "-executions", "30", "-in-flight", "10", "-commit", "abc1234"}, &out, &errOut, getenv)
	require.Equal(t, 0, code, errOut.String())
	require.Regexp(t, `(?m)^aiflow engine\s+PostgreSQL\s+30\s+10\s`, out.String())
	require.Regexp(t, `(?m)^PostgreSQL \d+\.\d+ \(fsync=\w+, synchronous_commit=\w+\)$`, out.String())
	require.NotRegexp(t, `(?m)^aiflow engine\s+memory`, out.String())
}
