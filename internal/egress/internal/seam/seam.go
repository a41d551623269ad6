// Package seam carries the one test-only setting of an egress.Guard from
// package egress to package egresstest without exporting it from egress:
// only packages under internal/egress can import this package, and
// production code never imports egresstest.
package seam

import "net/netip"

// TreatAsPublic, set by package egress when it is initialised, makes the
// guard g (an *egress.Guard) count the given addresses, with their ports,
// as public.
var TreatAsPublic func(g any, addrs []netip.AddrPort)
