package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aiflow/aiflow/internal/asl"
	"github.com/aiflow/aiflow/internal/workflow"
)

// loadWorkflow parses and checks a definition file. The MCP tool catalog is
// --catalog, or mcp-catalog.json beside the file when there is one.
func loadWorkflow(file, catalogPath string) (*workflow.Checked, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	var catalog *workflow.Catalog
	if catalogPath == "" {
		beside := filepath.Join(filepath.Dir(file), "mcp-catalog.json")
		if _, err := os.Stat(beside); err == nil {
			catalogPath = beside
		}
	}
	if catalogPath != "" {
		raw, err := os.ReadFile(catalogPath)
		if err != nil {
			return nil, fmt.Errorf("reading the tool catalog: %w", err)
		}
		if catalog, err = workflow.ParseCatalog(raw); err != nil {
			return nil, fmt.Errorf("%s: %w", catalogPath, err)
		}
	}
	return workflow.Load(file, src, catalog)
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
	catalog := fs.String("catalog", "", "the MCP tool catalog (default: mcp-catalog.json beside the file)")
	return fs, catalog
}

// cmdValidate checks definitions and prints every error, compiler style.
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
		if _, err := loadWorkflow(file, *catalog); err != nil {
			fmt.Fprintln(e.stderr, err)
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
	checked, err := loadWorkflow(files[0], *catalog)
	if err != nil {
		fmt.Fprintln(e.stderr, err)
		return 1
	}
	m, err := workflow.Compile(checked)
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow compile: %v\n", err)
		return 1
	}
	if problems := asl.Validate(m); len(problems) > 0 {
		fmt.Fprintln(e.stderr, "aiflow compile: the compiler made an invalid state machine (a bug; please report it):")
		for _, p := range problems {
			fmt.Fprintf(e.stderr, "  %v\n", p)
		}
		return 1
	}
	raw, err := m.MarshalIndent()
	if err != nil {
		fmt.Fprintf(e.stderr, "aiflow compile: %v\n", err)
		return 1
	}
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
