package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/workflow"
)

// Catalog files the checker reads beside a definition: MCP servers'
// tools (aiflow mcp catalog writes it) and registered services'
// operations.
const (
	mcpCatalogFile     = "mcp-catalog.json"
	serviceCatalogFile = "service-catalog.json"
)

// readWorkflow reads a definition file and its catalog: --catalog (which
// may hold servers and services), or else mcp-catalog.json and
// service-catalog.json beside the file, those there are, merged.
func readWorkflow(file, catalogPath string) ([]byte, *workflow.Catalog, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", file, err)
	}
	if catalogPath != "" {
		catalog, err := readCatalog(catalogPath)
		if err != nil {
			return nil, nil, err
		}
		return src, catalog, nil
	}
	catalog, err := readCatalogsIn(filepath.Dir(file))
	if err != nil {
		return nil, nil, err
	}
	return src, catalog, nil
}

// readCatalogsIn reads the catalog files in dir and merges them; nil when
// there are none.
func readCatalogsIn(dir string) (*workflow.Catalog, error) {
	var found []*workflow.Catalog
	for _, name := range []string{mcpCatalogFile, serviceCatalogFile} {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		c, err := readCatalog(path)
		if err != nil {
			return nil, err
		}
		found = append(found, c)
	}
	if len(found) == 0 {
		return nil, nil
	}
	return workflow.MergeCatalogs(found...), nil
}

func readCatalog(path string) (*workflow.Catalog, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the catalog: %w", err)
	}
	catalog, err := workflow.ParseCatalog(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return catalog, nil
}

// loadWorkflow parses and checks a definition file (see readWorkflow).
func loadWorkflow(file, catalogPath string) (*workflow.Checked, error) {
	src, catalog, err := readWorkflow(file, catalogPath)
	if err != nil {
		return nil, err
	}
	return workflow.Load(file, src, catalog)
}

// buildWorkflow parses, checks and compiles a definition file (see
// readWorkflow and workflow.Build).
func buildWorkflow(file, catalogPath string) (*workflow.Built, error) {
	src, catalog, err := readWorkflow(file, catalogPath)
	if err != nil {
		return nil, err
	}
	return workflow.Build(file, src, catalog)
}

// printBuildError prints an error of buildWorkflow, compiler style: the
// definition's mistakes as they are, the compiler's after the command's
// name.
func printBuildError(w io.Writer, command string, err error) {
	var ce *workflow.CompileError
	var ie *workflow.InvalidMachineError
	switch {
	case errors.As(err, &ie):
		fmt.Fprintf(w, "aiflow %s: the compiler made an invalid state machine (a bug; please report it):\n", command)
		for _, p := range ie.Problems {
			fmt.Fprintf(w, "  %v\n", p)
		}
	case errors.As(err, &ce):
		fmt.Fprintf(w, "aiflow %s: %v\n", command, err)
	default:
		fmt.Fprintln(w, err)
	}
}

// parseAnywhere parses flags before, between and after the positional
// arguments (aiflow compile FILE -o OUT), which flag.Parse alone stops at.
func parseAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func workflowFlags(name string, e env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("aiflow "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	catalog := fs.String("catalog", "", "the catalog of MCP tools and services (default: mcp-catalog.json and service-catalog.json beside the file)")
	return fs, catalog
}

// cmdValidate checks and compiles definitions and prints every error,
// compiler style.
func cmdValidate(args []string, e env) int {
	fs, catalog := workflowFlags("validate", e)
	files, err := parseAnywhere(fs, args)
	if err != nil {
		return 2
	}
	if len(files) == 0 {
		fmt.Fprintln(e.stderr, "usage: aiflow validate [--catalog FILE] FILE...")
		return 2
	}
	code := 0
	for _, file := range files {
		if _, err := buildWorkflow(file, *catalog); err != nil {
			printBuildError(e.stderr, "validate", err)
			code = 1
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", file)
	}
	return code
}

// cmdCompile prints (or writes, with -o) the state machine of a definition.
func cmdCompile(args []string, e env) int {
	fs, catalog := workflowFlags("compile", e)
	out := fs.String("o", "", "write the state machine to this file instead of stdout")
	files, err := parseAnywhere(fs, args)
	if err != nil {
		return 2
	}
	if len(files) != 1 {
		fmt.Fprintln(e.stderr, "usage: aiflow compile [--catalog FILE] [-o OUT] FILE")
		return 2
	}
	built, err := buildWorkflow(files[0], *catalog)
	if err != nil {
		printBuildError(e.stderr, "compile", err)
		return 1
	}
	raw := []byte(built.ASL)
	if *out == "" {
		_, _ = e.stdout.Write(raw)
		return 0
	}
	if err := os.WriteFile(*out, raw, 0o644); err != nil {
		fmt.Fprintf(e.stderr, "aiflow compile: writing %s: %v\n", *out, err)
		return 1
	}
	return 0
}

// cmdGraph prints a Mermaid flowchart of a definition.
func cmdGraph(args []string, e env) int {
	fs, catalog := workflowFlags("graph", e)
	files, err := parseAnywhere(fs, args)
	if err != nil {
		return 2
	}
	if len(files) != 1 {
		fmt.Fprintln(e.stderr, "usage: aiflow graph [--catalog FILE] FILE")
		return 2
	}
	checked, err := loadWorkflow(files[0], *catalog)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 1
	}
	fmt.Fprint(e.stdout, workflow.Mermaid(checked))
	return 0
}
