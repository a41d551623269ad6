package config

import (
	"net/netip"
	"strings"
)

// prefixes reads a comma-separated list of networks (CIDR) and addresses,
// an address standing for itself alone (/32 or /128).
func (r *reader) prefixes(key string) []netip.Prefix {
	var out []netip.Prefix
	for _, item := range commaList(r.string(key, "")) {
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				r.problem(key, "10.0.0.0/8,2001:db8::/32", "%q is not a network in CIDR notation", item)
				continue
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			r.problem(key, "10.0.0.0/8,2001:db8::/32", "%q is not an IP address or a network in CIDR notation", item)
			continue
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out
}
