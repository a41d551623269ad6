package enginebench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// NodeResult is the JSON object bench/compare/peers.mjs prints after its
// run of the peers' workload on a Node.js interpreter.
type NodeResult struct {
	// Interpreter is the interpreter and its version, such as
	// "aws-local-stepfunctions 3.0.0".
	Interpreter string `json:"interpreter"`
	// Node is the Node.js version, such as "v22.23.3".
	Node          string `json:"node"`
	Executions    int    `json:"executions"`
	InFlight      int    `json:"inFlight"`
	ElapsedMicros int64  `json:"elapsedMicros"`
	// CPUMicros is the Node.js process's user and system CPU time during
	// the run (process.cpuUsage).
	CPUMicros int64 `json:"cpuMicros"`
}

// ParseNodeResult reads the last non-empty line of out as a NodeResult.
// It fails when there is none, when the line is not one, or when it
// counts no execution or no time.
func ParseNodeResult(out []byte) (NodeResult, error) {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	last := bytes.TrimSpace(lines[len(lines)-1])
	if len(last) == 0 {
		return NodeResult{}, fmt.Errorf("reading the Node.js script's result: it printed nothing")
	}
	var r NodeResult
	if err := json.Unmarshal(last, &r); err != nil {
		return NodeResult{}, fmt.Errorf("reading the Node.js script's result %q: %w", last, err)
	}
	if r.Executions <= 0 || r.ElapsedMicros <= 0 {
		return NodeResult{}, fmt.Errorf("reading the Node.js script's result %q: no executions or no elapsed time", last)
	}
	return r, nil
}

// Row is the line of the comparison's table it stands for: its
// system, store and measures.
func (r NodeResult) Row() ComparisonRow {
	return ComparisonRow{System: r.Interpreter + " (Node.js " + r.Node + ")", Store: "memory",
		Executions: r.Executions, InFlight: r.InFlight,
		Elapsed: time.Duration(r.ElapsedMicros) * time.Microsecond, CPU: time.Duration(r.CPUMicros) * time.Microsecond}
}

// ComparisonRow is one system's run of the peers' workload.
type ComparisonRow struct {
	System, Store        string
	Executions, InFlight int
	Elapsed              time.Duration
	// CPU is the process's CPU time during the run; 0 when not measured.
	CPU time.Duration
}

// PeersRow is the line of an aiflow engine's run.
func PeersRow(store string, r Result) ComparisonRow {
	return ComparisonRow{System: "aiflow engine", Store: store, Executions: r.Executions, InFlight: r.InFlight, Elapsed: r.Elapsed, CPU: r.CPU}
}

// Comparison is the table `make compare` prints.
type Comparison struct {
	Machine Machine
	// Commit is the commit of aiflow that ran.
	Commit string
	// Notes are lines printed under the table, such as which Node.js ran.
	Notes []string
	Rows  []ComparisonRow
}

// Write prints the workload, the machine, the commit, then one line per
// row: executions, in flight, seconds, executions/s and CPU per execution
// ("-" where unmeasured), then the notes.
func (c Comparison) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintln(&b, "workload  three Task states whose function echoes its input, in the engine's own process")
	fmt.Fprintln(&b, "machine  ", c.Machine)
	fmt.Fprintln(&b, "commit   ", c.Commit)
	fmt.Fprintln(&b)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "system\tstore\texecutions\tin flight\tseconds\texecutions/s\tCPU per execution")
	for _, r := range c.Rows {
		cpu := "-"
		if r.CPU > 0 && r.Executions > 0 {
			cpu = fmt.Sprintf("%.1f µs", float64(r.CPU.Microseconds())/float64(r.Executions))
		}
		rate := 0.0
		if r.Elapsed > 0 {
			rate = float64(r.Executions) / r.Elapsed.Seconds()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f\t%.0f\t%s\n", r.System, r.Store, r.Executions, r.InFlight, r.Elapsed.Seconds(), rate, cpu)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the comparison: %w", err)
	}
	for _, n := range c.Notes {
		fmt.Fprintln(&b, n)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the comparison: %w", err)
	}
	return nil
}
