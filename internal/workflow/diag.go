package workflow

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a definition file (1-based line and column).
type Pos struct {
	Line, Col int
}

// Diagnostic is one problem found in a definition, located like a
// compiler's: file:line:col.
type Diagnostic struct {
	File string
	Pos  Pos
	Step string // the step it concerns, when there is one
	Msg  string
	Hint string
}

func (d Diagnostic) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: error: %s", d.File, d.Pos.Line, d.Pos.Col, d.Msg)
	if d.Step != "" {
		fmt.Fprintf(&b, " (step %q)", d.Step)
	}
	if d.Hint != "" {
		fmt.Fprintf(&b, "\n    hint: %s", d.Hint)
	}
	return b.String()
}

// Diagnostics are every problem found in a definition. As an error it
// prints them all, one per line, in file order.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	ds.sort()
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

func (ds Diagnostics) sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		if ds[i].File != ds[j].File {
			return ds[i].File < ds[j].File
		}
		if ds[i].Pos.Line != ds[j].Pos.Line {
			return ds[i].Pos.Line < ds[j].Pos.Line
		}
		return ds[i].Pos.Col < ds[j].Pos.Col
	})
}

// reporter collects diagnostics for one file.
type reporter struct {
	file  string
	diags Diagnostics
	seen  map[Diagnostic]bool
}

// errorf reports a problem, once: a value checked against several schemas
// (a service step's body, when the versions it may call differ) reports
// what they have in common one time.
func (r *reporter) errorf(pos Pos, step, hint, format string, args ...any) {
	d := Diagnostic{File: r.file, Pos: pos, Step: step, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if r.seen[d] {
		return
	}
	if r.seen == nil {
		r.seen = map[Diagnostic]bool{}
	}
	r.seen[d] = true
	r.diags = append(r.diags, d)
}

func (r *reporter) err() error {
	if len(r.diags) == 0 {
		return nil
	}
	r.diags.sort()
	return r.diags
}
