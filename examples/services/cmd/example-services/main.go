// Command example-services runs the example services (threat-intel and
// incident-desk) as registry instances with the Go helper of package
// service: each listens on its own loopback port, registers its service
// version and itself with aiflow's API as an internal instance (an
// admin's token, such as aiflow dev's), heartbeats, answers its health
// check, and on Ctrl-C or SIGTERM drains, finishes the calls it has and
// deregisters.
//
//	go run ./examples/services/cmd/example-services --api http://127.0.0.1:8080 --token "$(cat .aiflow/dev-token)"
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/aiflow/aiflow/examples/services/incidentdesk"
	"github.com/aiflow/aiflow/examples/services/threatintel"
	"github.com/aiflow/aiflow/internal/registry"
	"github.com/aiflow/aiflow/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "example-services: %v\n", err)
		os.Exit(1)
	}
}

// run serves both services until ctx ends, then returns once both have
// drained and deregistered.
func run(ctx context.Context, args []string, logs io.Writer) error {
	fs := flag.NewFlagSet("example-services", flag.ContinueOnError)
	fs.SetOutput(logs)
	api := fs.String("api", envOr("AIFLOW_API_URL", "http://127.0.0.1:8080"), "aiflow's API (default $AIFLOW_API_URL, else aiflow dev's)")
	token := fs.String("token", os.Getenv("AIFLOW_TOKEN"), "an admin's token: internal instances are registered by admins (default $AIFLOW_TOKEN)")
	intelAddr := fs.String("threat-intel", "127.0.0.1:0", "where threat-intel listens")
	deskAddr := fs.String("incident-desk", "127.0.0.1:0", "where incident-desk listens")
	id := fs.String("id", "example-services", "the instances' id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*token) == "" {
		return fmt.Errorf("no token: give --token or AIFLOW_TOKEN (aiflow dev writes an admin's to .aiflow/dev-token)")
	}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, s := range []struct {
		def     registry.Service
		handler http.Handler
		addr    string
	}{
		{threatintel.Service(), threatintel.Handler(), *intelAddr},
		{incidentdesk.Service(), incidentdesk.Handler(), *deskAddr},
	} {
		def, err := definition(s.def)
		if err != nil {
			return err
		}
		wg.Go(func() {
			err := service.Serve(ctx, service.Options{
				APIURL: *api, Token: strings.TrimSpace(*token), Service: def, Handler: s.handler, Addr: s.addr,
				// On loopback: only an internal instance may live there.
				Instance: service.Instance{ID: *id, Internal: true, Zone: "local"},
				Signals:  []os.Signal{}, // ctx carries them
				Logger:   logger.With("service", def.Name),
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("%s: %w", def.Name, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// definition is a registration as the helper takes it: its types mirror
// the registry's JSON field for field.
func definition(s registry.Service) (service.Definition, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return service.Definition{}, fmt.Errorf("encoding %s: %w", s.Name, err)
	}
	var d service.Definition
	if err := json.Unmarshal(raw, &d); err != nil {
		return service.Definition{}, fmt.Errorf("reading %s: %w", s.Name, err)
	}
	return d, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
