package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/aiflow/aiflow/internal/config"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/internal/registry/catalog"
	"github.com/aiflow/aiflow/service"
)

const serviceUsage = `Usage:
  aiflow service register FILE [--instance [ID=]URL]... [--internal] [--zone Z] [--weight N]
      register a service version (YAML or JSON: name, version, capabilities, operations, ...,
      and instances) or replace it; each --instance adds an instance at URL, with the id ID or
      one the registry chooses (--internal: on a private or loopback address, which only an
      admin's token may register)
  aiflow service list [--capability C] [--name N] [--json]
      list the registered service versions and how many of their instances are healthy
  aiflow service show NAME [--json]
      show every version of a service: capabilities, operations, instances and their health
  aiflow service drain NAME ID
      mark an instance draining: it gets no new calls and finishes what it has
  aiflow service deregister NAME [ID] [--version V]
      remove an instance (ID), one version (--version), or the whole service
  aiflow service history NAME [--after SEQ] [--limit N] [--json]
      print a service's health and lifecycle events, oldest first
  aiflow service catalog [-o FILE]
      write the service catalog the type checker reads (aiflow validate --catalog)

Every command talks to aiflow's HTTP API: --api URL (else AIFLOW_API_URL, else the API aiflow
dev serves on AIFLOW_HTTP_ADDR, 127.0.0.1:8080) with --token TOKEN (else AIFLOW_TOKEN, else the
development token aiflow dev writes to AIFLOW_DATA_DIR/dev-token). See docs/services.md.
`

// serviceCommands are the subcommands of `aiflow service` by name.
var serviceCommands = map[string]func(ctx context.Context, c *serviceCLI, args []string) int{
	"register":   cmdServiceRegister,
	"list":       cmdServiceList,
	"show":       cmdServiceShow,
	"drain":      cmdServiceDrain,
	"deregister": cmdServiceDeregister,
	"history":    cmdServiceHistory,
	"catalog":    cmdServiceCatalog,
}

func cmdService(ctx context.Context, args []string, e env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, serviceUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, serviceUsage)
		return 0
	}
	run, ok := serviceCommands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "aiflow service: unknown subcommand %q\n\n%s", args[0], serviceUsage)
		return 2
	}
	return run(ctx, &serviceCLI{name: "aiflow service " + args[0], e: e}, args[1:])
}

// serviceCLI is one run of a subcommand: its flags (the shared --api and
// --token among them) and its way to the API.
type serviceCLI struct {
	name  string
	e     env
	fs    *flag.FlagSet
	api   *string
	token *string
}

// flags returns the subcommand's flag set with --api and --token.
func (c *serviceCLI) flags() *flag.FlagSet {
	c.fs = flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.fs.SetOutput(c.e.stderr)
	c.fs.Usage = func() { fmt.Fprint(c.e.stderr, serviceUsage) }
	c.api = c.fs.String("api", "", "the API's base URL (default: AIFLOW_API_URL, else aiflow dev's)")
	c.token = c.fs.String("token", "", "the bearer token (default: AIFLOW_TOKEN, else aiflow dev's development token)")
	return c.fs
}

// parse parses flags wherever they stand among the arguments and checks
// the count of the positional ones (min to max; max < 0 means any). ok is
// false when the command should stop with code.
func (c *serviceCLI) parse(args []string, minArgs, maxArgs int, what string) (pos []string, code int, ok bool) {
	for {
		if err := c.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minArgs || (maxArgs >= 0 && len(pos) > maxArgs) {
		fmt.Fprintf(c.e.stderr, "%s: expected %s, got %q\n\n%s", c.name, what, pos, serviceUsage)
		return nil, 2, false
	}
	return pos, 0, true
}

// client returns the API's client from the flags and the environment.
func (c *serviceCLI) client() (*service.Client, error) {
	cfg, err := config.LoadServiceClient(c.e.lookup)
	if err != nil {
		return nil, err
	}
	api := cfg.APIURL
	if *c.api != "" {
		api = *c.api
	}
	token := *c.token
	if token == "" {
		token = cfg.Token.Reveal()
	}
	if token == "" {
		data, err := os.ReadFile(cfg.TokenFile)
		switch {
		case err == nil:
			token = strings.TrimSpace(string(data))
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("reading the development token: %w", err)
		}
	}
	if token == "" {
		return nil, fmt.Errorf("no token: pass --token, set AIFLOW_TOKEN, or run aiflow dev, which writes %s", cfg.TokenFile)
	}
	return service.NewClient(service.ClientOptions{APIURL: api, Token: token, HTTPClient: nil})
}

// fail reports err and returns the exit status: 1, or 2 for a bad
// configuration.
func (c *serviceCLI) fail(err error) int {
	var ce *config.Error
	if errors.As(err, &ce) {
		fmt.Fprintln(c.e.stderr, err)
		return 2
	}
	fmt.Fprintf(c.e.stderr, "%s: %v\n", c.name, err)
	return 1
}

func cmdServiceRegister(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	var instances stringList
	fs.Var(&instances, "instance", "add an instance at this URL, as [ID=]URL (repeatable)")
	internal := fs.Bool("internal", false, "the --instance instances are internal (private or loopback addresses; admins only)")
	zone := fs.String("zone", "", "the zone of the --instance instances")
	weight := fs.Int("weight", 0, "the weight of the --instance instances (1 to 1000; default 100)")
	pos, code, ok := c.parse(args, 1, 1, "one FILE")
	if !ok {
		return code
	}
	def, err := readDefinition(pos[0])
	if err != nil {
		return c.fail(err)
	}
	for _, arg := range instances {
		id, u := instanceFlag(arg)
		def.Instances = append(def.Instances, service.Instance{ID: id, Version: def.Version, Endpoint: u, Internal: *internal, Zone: *zone, Weight: *weight})
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	out, created, err := client.Register(ctx, def)
	if err != nil {
		return c.fail(fmt.Errorf("%s: %w", pos[0], err))
	}
	how := "updated"
	if created {
		how = "registered"
	}
	fmt.Fprintf(c.e.stdout, "%s %s %s\n", how, out.Name, out.Version)
	for _, in := range out.Instances {
		fmt.Fprintf(c.e.stdout, "  instance %s %s %s\n", in.ID, instanceAddress(in), in.Status)
	}
	return 0
}

// instanceFlag splits an --instance value, [ID=]URL: what comes before
// the first "=" is an id when it holds no ":" or "/" (a URL's query may
// hold "=" too).
func instanceFlag(v string) (id, endpoint string) {
	if before, after, ok := strings.Cut(v, "="); ok && !strings.ContainsAny(before, ":/") {
		return before, after
	}
	return "", v
}

// readDefinition reads a service version from a YAML or JSON file,
// refusing fields the registry does not know.
func readDefinition(path string) (service.Definition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return service.Definition{}, fmt.Errorf("reading the service: %w", err)
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return service.Definition{}, fmt.Errorf("%s: not YAML or JSON: %w", path, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return service.Definition{}, fmt.Errorf("%s: expected a mapping (name, version, operations, ...)", path)
	}
	js, err := json.Marshal(doc)
	if err != nil {
		return service.Definition{}, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var def service.Definition
	if err := dec.Decode(&def); err != nil {
		return service.Definition{}, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "json: "))
	}
	return def, nil
}

func cmdServiceList(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	capability := fs.String("capability", "", "only the services with this capability")
	name := fs.String("name", "", "only the service of this name")
	asJSON := fs.Bool("json", false, "print the services as JSON")
	if _, code, ok := c.parse(args, 0, 0, "no arguments"); !ok {
		return code
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	items, err := client.List(ctx, service.ListFilter{Name: *name, Capability: *capability})
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		return c.printJSON(map[string]any{"items": nonNil(items)})
	}
	if len(items) == 0 {
		fmt.Fprintln(c.e.stderr, "no services are registered")
		return 0
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tHEALTHY\tCAPABILITIES")
	for _, s := range items {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%s\n", s.Name, s.Version, healthy(s.Instances), len(s.Instances), strings.Join(s.Capabilities, ","))
	}
	_ = tw.Flush()
	return 0
}

func cmdServiceShow(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	asJSON := fs.Bool("json", false, "print the service as JSON")
	pos, code, ok := c.parse(args, 1, 1, "one NAME")
	if !ok {
		return code
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	versions, err := client.Get(ctx, pos[0])
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		return c.printJSON(map[string]any{"name": pos[0], "versions": nonNil(versions)})
	}
	w := c.e.stdout
	for i, v := range versions {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s %s\n", v.Name, v.Version)
		if v.Description != "" {
			fmt.Fprintf(w, "  %s\n", v.Description)
		}
		if len(v.Capabilities) > 0 {
			fmt.Fprintf(w, "  capabilities: %s\n", strings.Join(v.Capabilities, ", "))
		}
		if v.HealthCheck != nil {
			fmt.Fprintf(w, "  health check: GET %s\n", v.HealthCheck.Path)
		}
		fmt.Fprintln(w, "  operations:")
		for _, op := range v.Operations {
			fmt.Fprintf(w, "    %-6s %s  (%s)\n", op.Method, op.Path, op.Name)
		}
		if len(v.Instances) == 0 {
			fmt.Fprintln(w, "  instances: none")
			continue
		}
		fmt.Fprintln(w, "  instances:")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, in := range v.Instances {
			beat := "never"
			if !in.HeartbeatAt.IsZero() {
				beat = in.HeartbeatAt.UTC().Format(time.RFC3339)
			}
			reason := ""
			if in.StatusReason != "" {
				reason = " (" + in.StatusReason + ")"
			}
			fmt.Fprintf(tw, "    %s\t%s\t%s%s\tzone %s\tweight %d\theartbeat %s\n", in.ID, instanceAddress(in), in.Status, reason, orDash(in.Zone), weightOf(in), beat)
		}
		_ = tw.Flush()
	}
	return 0
}

func cmdServiceDrain(ctx context.Context, c *serviceCLI, args []string) int {
	c.flags()
	pos, code, ok := c.parse(args, 2, 2, "NAME and ID")
	if !ok {
		return code
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	in, err := client.Drain(ctx, pos[0], pos[1])
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(c.e.stdout, "%s instance %s is %s\n", pos[0], in.ID, in.Status)
	return 0
}

func cmdServiceDeregister(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	version := fs.String("version", "", "remove only this version")
	pos, code, ok := c.parse(args, 1, 2, "NAME and at most one instance ID")
	if !ok {
		return code
	}
	if len(pos) == 2 && *version != "" {
		fmt.Fprintf(c.e.stderr, "%s: give an instance ID or --version, not both\n", c.name)
		return 2
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	switch {
	case len(pos) == 2:
		err = client.DeregisterInstance(ctx, pos[0], pos[1])
		if err == nil {
			fmt.Fprintf(c.e.stdout, "deregistered %s instance %s\n", pos[0], pos[1])
		}
	case *version != "":
		err = client.Deregister(ctx, pos[0], *version)
		if err == nil {
			fmt.Fprintf(c.e.stdout, "deregistered %s %s\n", pos[0], *version)
		}
	default:
		err = client.Deregister(ctx, pos[0], "")
		if err == nil {
			fmt.Fprintf(c.e.stdout, "deregistered every version of %s\n", pos[0])
		}
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

func cmdServiceHistory(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	after := fs.Int64("after", 0, "print the events after this sequence number")
	limit := fs.Int("limit", 100, "print at most this many events (1 to 100)")
	asJSON := fs.Bool("json", false, "print the events as JSON")
	pos, code, ok := c.parse(args, 1, 1, "one NAME")
	if !ok {
		return code
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	events, err := client.History(ctx, pos[0], *after, *limit)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON {
		return c.printJSON(map[string]any{"items": nonNil(events)})
	}
	if len(events) == 0 {
		fmt.Fprintf(c.e.stderr, "%s has no events after %d\n", pos[0], *after)
		return 0
	}
	tw := tabwriter.NewWriter(c.e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tEVENT\tDETAIL")
	for _, ev := range events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", ev.Sequence, ev.At.UTC().Format(time.RFC3339), ev.Type, ev.Summary())
	}
	_ = tw.Flush()
	return 0
}

func cmdServiceCatalog(ctx context.Context, c *serviceCLI, args []string) int {
	fs := c.flags()
	out := fs.String("o", "", "write the catalog to this file instead of standard output")
	if _, code, ok := c.parse(args, 0, 0, "no arguments"); !ok {
		return code
	}
	client, err := c.client()
	if err != nil {
		return c.fail(err)
	}
	items, err := client.List(ctx, service.ListFilter{})
	if err != nil {
		return c.fail(err)
	}
	data, err := serviceCatalog(items)
	if err != nil {
		return c.fail(err)
	}
	if *out == "" || *out == "-" {
		_, _ = c.e.stdout.Write(data)
		return 0
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return c.fail(fmt.Errorf("writing the catalog: %w", err))
	}
	fmt.Fprintf(c.e.stderr, "wrote %s (%d services)\n", filepath.Clean(*out), countNames(items))
	return 0
}

func (c *serviceCLI) printJSON(v any) int {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return c.fail(fmt.Errorf("encoding the answer: %w", err))
	}
	_, _ = c.e.stdout.Write(append(data, '\n'))
	return 0
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func healthy(ins []service.Instance) int {
	n := 0
	for _, in := range ins {
		if in.Status == service.StatusHealthy {
			n++
		}
	}
	return n
}

func instanceAddress(in service.Instance) string {
	if in.Endpoint != "" {
		return in.Endpoint
	}
	return in.FunctionARN
}

func weightOf(in service.Instance) int {
	if in.Weight == 0 {
		return 100
	}
	return in.Weight
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func countNames(items []service.Definition) int {
	names := map[string]bool{}
	for _, s := range items {
		names[s.Name] = true
	}
	return len(names)
}

// serviceCatalog writes the catalog of the registered services, as the
// registry writes it (catalog.File).
func serviceCatalog(items []service.Definition) ([]byte, error) {
	// The helper's types mirror the registry's JSON field for field.
	raw, err := json.Marshal(items)
	if err != nil {
		return nil, fmt.Errorf("encoding the catalog: %w", err)
	}
	var svcs []registry.Service
	if err := json.Unmarshal(raw, &svcs); err != nil {
		return nil, fmt.Errorf("reading the services: %w", err)
	}
	return catalog.File(svcs)
}
