// Command coverfloor reads the statement coverage profile that
// `make test COVERPROFILE=...` writes, prints each package's statement
// coverage and the total, and exits with status 1 when a core package named
// on its command line is under the floor. `make cover` runs it.
//
// The profile comes from `go test -coverprofile` without -coverpkg, so a
// package's figure is the share of its statements that its own tests run.
// A core package whose folder does not exist (yet) is reported as missing and
// skipped; one whose folder exists but that has no statements in the profile
// fails, since the profile was then made without it.
//
// Usage:
//
//	coverfloor -profile build/cover.out -floor 80 internal/asl internal/engine ...
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	profile := flag.String("profile", "build/cover.out", "the coverage profile written by go test -coverprofile")
	floor := flag.Float64("floor", 80, "the least statement coverage, in percent, of each core package")
	module := flag.String("module", "", "the module path to strip from package paths; empty reads it from go.mod")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: coverfloor [-profile file] [-floor percent] core-package-folder...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	ok, err := run(runParams{
		Profile: *profile,
		Floor:   *floor,
		Module:  *module,
		Core:    flag.Args(),
		Out:     os.Stdout,
		DirExists: func(dir string) bool {
			fi, err := os.Stat(dir)
			return err == nil && fi.IsDir()
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "coverfloor:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

type runParams struct {
	Profile   string
	Floor     float64
	Module    string   // "" reads go.mod in the working directory
	Core      []string // package folders relative to the module root
	Out       io.Writer
	DirExists func(dir string) bool
}

// run prints the report and reports whether every core package that exists
// is at or above the floor.
func run(p runParams) (bool, error) {
	module := p.Module
	if module == "" {
		var err error
		if module, err = readModulePath("go.mod"); err != nil {
			return false, err
		}
	}
	f, err := os.Open(p.Profile)
	if err != nil {
		return false, fmt.Errorf("opening the profile: %w", err)
	}
	defer f.Close()
	pkgs, err := parseProfile(f)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", p.Profile, err)
	}
	r := check(pkgs, checkParams{Module: module, Floor: p.Floor, Core: p.Core, DirExists: p.DirExists})
	if err := r.write(p.Out); err != nil {
		return false, fmt.Errorf("writing the report: %w", err)
	}
	return r.OK, nil
}

// readModulePath returns the module path declared in a go.mod file.
func readModulePath(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading the module path: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	return "", fmt.Errorf("reading the module path: no module line in %s", file)
}

// counts are a package's statements and those of them that ran.
type counts struct {
	Statements int
	Covered    int
}

// percent is the covered share; a package without statements counts as
// fully covered, as go test reports it.
func (c counts) percent() float64 {
	if c.Statements == 0 {
		return 100
	}
	return 100 * float64(c.Covered) / float64(c.Statements)
}

// shown is percent cut (not rounded) to one decimal, so that a package just
// under the floor never prints as at it.
func (c counts) shown() float64 { return math.Floor(c.percent()*10) / 10 }

// parseProfile reads a coverage profile (one or several concatenated, each
// with its mode line) and returns the statement counts of each package, by
// import path. A block listed more than once (as with -coverpkg, where
// several test binaries report one package) counts once, as covered when
// any of its lines has a count above zero.
func parseProfile(r io.Reader) (map[string]counts, error) {
	type block struct {
		statements int
		covered    bool
	}
	blocks := map[string]*block{} // by file:position
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	n := 0
	seenMode := false
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "mode: ") {
			seenMode = true
			continue
		}
		if !seenMode {
			return nil, fmt.Errorf("line %d: a profile starts with a mode line", n)
		}
		// file:start.col,end.col statements count
		fields := strings.Fields(line)
		if len(fields) != 3 {
			return nil, fmt.Errorf("line %d: want \"file:range statements count\", got %q", n, line)
		}
		colon := strings.LastIndexByte(fields[0], ':')
		if colon <= 0 {
			return nil, fmt.Errorf("line %d: no file name in %q", n, fields[0])
		}
		stmts, err := strconv.Atoi(fields[1])
		if err != nil || stmts < 0 {
			return nil, fmt.Errorf("line %d: statement count %q is not a number", n, fields[1])
		}
		count, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil || count < 0 {
			return nil, fmt.Errorf("line %d: execution count %q is not a number", n, fields[2])
		}
		b := blocks[fields[0]]
		if b == nil {
			b = &block{statements: stmts}
			blocks[fields[0]] = b
		}
		b.covered = b.covered || count > 0
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seenMode {
		return nil, errors.New("the profile is empty")
	}
	pkgs := map[string]counts{}
	for key, b := range blocks {
		file := key[:strings.LastIndexByte(key, ':')]
		pkg := path.Dir(file)
		c := pkgs[pkg]
		c.Statements += b.statements
		if b.covered {
			c.Covered += b.statements
		}
		pkgs[pkg] = c
	}
	return pkgs, nil
}

type checkParams struct {
	Module    string
	Floor     float64
	Core      []string
	DirExists func(dir string) bool
}

// line is one package of the report.
type line struct {
	Package string // relative to the module root; "." for the root
	counts
	Core   bool
	Status string // for core packages: "ok", "under the floor", "missing", "not in the profile"
}

// report is what check found.
type report struct {
	Lines []line
	Total counts
	Floor float64
	OK    bool
}

// check relates the profile's packages to the core list and the floor.
func check(pkgs map[string]counts, p checkParams) report {
	rel := func(pkg string) string {
		if pkg == p.Module {
			return "."
		}
		return strings.TrimPrefix(pkg, p.Module+"/")
	}
	r := report{Floor: p.Floor, OK: true}
	byRel := map[string]line{}
	for pkg, c := range pkgs {
		r.Total.Statements += c.Statements
		r.Total.Covered += c.Covered
		byRel[rel(pkg)] = line{Package: rel(pkg), counts: c}
	}
	for _, core := range p.Core {
		core = strings.TrimSuffix(strings.TrimPrefix(path.Clean(core), "./"), "/")
		l, inProfile := byRel[core]
		l.Package, l.Core = core, true
		switch {
		case !inProfile && !p.DirExists(core):
			l.Status = "missing"
		case !inProfile:
			l.Status = "not in the profile"
			r.OK = false
		case l.percent() < p.Floor:
			l.Status = "under the floor"
			r.OK = false
		default:
			l.Status = "ok"
		}
		byRel[core] = l
	}
	for _, l := range byRel {
		r.Lines = append(r.Lines, l)
	}
	sort.Slice(r.Lines, func(i, j int) bool { return r.Lines[i].Package < r.Lines[j].Package })
	return r
}

// write prints the report: every package, then the total, then one line
// per core package that is missing or fails.
func (r report) write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "statements\tcovered\tcoverage\t  package\n")
	for _, l := range r.Lines {
		if l.Status == "missing" {
			fmt.Fprintf(tw, "-\t-\t-\t  %s (core, missing)\n", l.Package)
			continue
		}
		mark := ""
		if l.Core {
			mark = fmt.Sprintf(" (core, %s)", l.Status)
		}
		fmt.Fprintf(tw, "%d\t%d\t%.1f%%\t  %s%s\n", l.Statements, l.Covered, l.shown(), l.Package, mark)
	}
	fmt.Fprintf(tw, "%d\t%d\t%.1f%%\t  total\n", r.Total.Statements, r.Total.Covered, r.Total.shown())
	if err := tw.Flush(); err != nil {
		return err
	}
	failed := 0
	for _, l := range r.Lines {
		switch l.Status {
		case "missing":
			fmt.Fprintf(w, "core package %s is missing: skipped until it exists\n", l.Package)
		case "not in the profile":
			failed++
			fmt.Fprintf(w, "FAIL core package %s has no statements in the profile: was it tested?\n", l.Package)
		case "under the floor":
			failed++
			fmt.Fprintf(w, "FAIL core package %s: %.1f%% of its statements covered by its own tests, the floor is %g%%\n", l.Package, l.shown(), r.Floor)
		}
	}
	if failed == 0 {
		_, err := fmt.Fprintf(w, "every core package is at or above %g%% statement coverage\n", r.Floor)
		return err
	}
	_, err := fmt.Fprintf(w, "%d core package(s) under %g%% statement coverage\n", failed, r.Floor)
	return err
}
