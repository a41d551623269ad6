// Package egresstest helps tests of code that calls out through an
// egress.Guard: a loopback test server can stand in for a public host
// while every other internal address stays refused, and names resolve
// from a table instead of DNS.
package egresstest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/aiflow/aiflow/internal/egress"
	"github.com/aiflow/aiflow/internal/egress/internal/seam"
)

// TreatAsPublic makes g count exactly these addresses and ports (a test
// server's 127.0.0.1:port) as public, for Policy{} as for AllowPrivate:
// another port of the same loopback address stays refused, so a redirect
// from the stand-in to another local server is refused as in production.
func TreatAsPublic(g *egress.Guard, addrs ...netip.AddrPort) {
	seam.TreatAsPublic(g, addrs)
}

// ServerAddr is the address and port a test server listens on.
func ServerAddr(tb testing.TB, srv *httptest.Server) netip.AddrPort {
	tb.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(srv.URL, "http://"), "https://")
	ap, err := netip.ParseAddrPort(host)
	if err != nil {
		tb.Fatalf("reading the address of the test server %s: %v", srv.URL, err)
	}
	return ap
}

// Public returns a guard with cfg on which each server's address counts as
// public.
func Public(tb testing.TB, cfg egress.Config, servers ...*httptest.Server) *egress.Guard {
	tb.Helper()
	g := egress.New(cfg)
	for _, s := range servers {
		TreatAsPublic(g, ServerAddr(tb, s))
	}
	tb.Cleanup(g.CloseIdleConnections)
	return g
}

// Resolver answers names from its table (lower case, no trailing dot) and
// fails for any other name; it implements egress.Resolver.
type Resolver map[string][]netip.Addr

// LookupNetIP implements egress.Resolver.
func (r Resolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addrs, ok := r[strings.TrimSuffix(strings.ToLower(host), ".")]; ok {
		return addrs, nil
	}
	return nil, fmt.Errorf("no such host %s in the test resolver", host)
}
