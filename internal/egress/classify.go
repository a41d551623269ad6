package egress

import (
	"net/netip"
)

// class is what an address is, for the guard's decision.
type class int

const (
	// classPublic addresses are reachable on the internet: always allowed.
	classPublic class = iota
	// classLoopback and classPrivate are allowed with Policy.AllowPrivate.
	classLoopback
	classPrivate
	// The rest are always refused.
	classMetadata
	classRefused
)

// verdict is an address's class and why, in words an error can carry.
type verdict struct {
	class  class
	reason string
}

// allows reports whether p lets a connection reach an address of v.
func (v verdict) allows(p Policy) bool {
	switch v.class {
	case classPublic:
		return true
	case classLoopback, classPrivate:
		return p.AllowPrivate
	}
	return false
}

// metadataAddrs are the cloud providers' instance metadata and credential
// endpoints. They are refused whatever the policy: an internal instance may
// live on a private address, never on the one that hands out the host's
// credentials.
var metadataAddrs = map[netip.Addr]string{
	netip.MustParseAddr("169.254.169.254"): "the cloud instance metadata address (AWS, GCP, Azure, OCI)",
	netip.MustParseAddr("169.254.169.123"): "the Amazon Time Sync address",
	netip.MustParseAddr("169.254.170.2"):   "the ECS task metadata address",
	netip.MustParseAddr("169.254.170.23"):  "the EKS Pod Identity address",
	netip.MustParseAddr("fd00:ec2::254"):   "the AWS instance metadata IPv6 address",
	netip.MustParseAddr("fd00:ec2::23"):    "the EKS Pod Identity IPv6 address",
	netip.MustParseAddr("100.100.100.200"): "the Alibaba Cloud metadata address",
}

// metadataNames are host names that reach a metadata service through the
// platform's resolver; refused before any lookup.
var metadataNames = map[string]bool{
	"metadata.google.internal":   true,
	"metadata":                   true,
	"instance-data":              true,
	"instance-data.ec2.internal": true,
}

type prefixRule struct {
	prefix netip.Prefix
	verdict
}

func rule(prefix string, c class, reason string) prefixRule {
	return prefixRule{prefix: netip.MustParsePrefix(prefix), verdict: verdict{class: c, reason: reason}}
}

// v4Rules follow the IANA IPv4 Special-Purpose Address Registry, most
// specific first where ranges nest.
var v4Rules = []prefixRule{
	rule("0.0.0.0/8", classRefused, `an unspecified ("this network") address`),
	rule("10.0.0.0/8", classPrivate, "a private address (10.0.0.0/8)"),
	rule("100.64.0.0/10", classRefused, "a carrier-grade NAT shared address (100.64.0.0/10)"),
	rule("127.0.0.0/8", classLoopback, "a loopback address"),
	rule("169.254.0.0/16", classRefused, "a link-local address (169.254.0.0/16)"),
	rule("172.16.0.0/12", classPrivate, "a private address (172.16.0.0/12)"),
	rule("192.0.0.0/24", classRefused, "an IETF protocol assignment (192.0.0.0/24)"),
	rule("192.0.2.0/24", classRefused, "a documentation address (192.0.2.0/24)"),
	rule("192.88.99.0/24", classRefused, "a deprecated 6to4 relay anycast address"),
	rule("192.168.0.0/16", classPrivate, "a private address (192.168.0.0/16)"),
	rule("198.18.0.0/15", classRefused, "a benchmarking address (198.18.0.0/15)"),
	rule("198.51.100.0/24", classRefused, "a documentation address (198.51.100.0/24)"),
	rule("203.0.113.0/24", classRefused, "a documentation address (203.0.113.0/24)"),
	rule("224.0.0.0/4", classRefused, "a multicast address"),
	rule("255.255.255.255/32", classRefused, "the broadcast address"),
	rule("240.0.0.0/4", classRefused, "a reserved address (240.0.0.0/4)"),
}

// v6Rules follow the IANA IPv6 Special-Purpose Address Registry. The
// ranges that embed an IPv4 address a translator or tunnel may reach
// (NAT64's well-known prefix, 6to4) are read before these, by the address
// they embed.
var v6Rules = []prefixRule{
	rule("::/128", classRefused, "the unspecified address"),
	rule("::1/128", classLoopback, "a loopback address"),
	rule("::/96", classRefused, "a deprecated IPv4-compatible IPv6 address (::/96)"),
	rule("64:ff9b:1::/48", classRefused, "a local-use NAT64 address (64:ff9b:1::/48)"),
	rule("100::/64", classRefused, "a discard-only address (100::/64)"),
	rule("2001:db8::/32", classRefused, "a documentation address (2001:db8::/32)"),
	rule("2001::/23", classRefused, "an IETF protocol assignment (2001::/23, Teredo among them)"),
	rule("3fff::/20", classRefused, "a documentation address (3fff::/20)"),
	rule("5f00::/16", classRefused, "a segment routing (SRv6) address"),
	rule("fc00::/7", classPrivate, "a unique local (private) address (fc00::/7)"),
	rule("fe80::/10", classRefused, "a link-local address (fe80::/10)"),
	rule("fec0::/10", classRefused, "a deprecated site-local address (fec0::/10)"),
	rule("ff00::/8", classRefused, "a multicast address"),
}

var (
	nat64Prefix   = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
	globalUnicast = netip.MustParsePrefix("2000::/3")
)

// classify says what a is. Zones are ignored; an IPv4-mapped IPv6 address
// is its IPv4 address (a dual-stack socket reaches that address), and so is
// the address a NAT64 well-known prefix or a 6to4 prefix embeds.
func classify(a netip.Addr) verdict {
	a = a.WithZone("")
	if a.Is4In6() {
		v := classify(a.Unmap())
		v.reason = "the IPv4-mapped form of " + v.reason
		return v
	}
	if r, ok := metadataAddrs[a]; ok {
		return verdict{class: classMetadata, reason: r}
	}
	if a.Is4() {
		for _, r := range v4Rules {
			if r.prefix.Contains(a) {
				return r.verdict
			}
		}
		return verdict{class: classPublic, reason: "a public address"}
	}
	if !a.Is6() {
		return verdict{class: classRefused, reason: "not an IP address"}
	}
	b := a.As16()
	switch {
	case nat64Prefix.Contains(a):
		v := classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		if v.class != classPublic {
			v.reason = "the NAT64 form of " + v.reason
		}
		return v
	case sixToFour.Contains(a):
		v := classify(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		if v.class != classPublic {
			v.reason = "the 6to4 form of " + v.reason
		}
		return v
	}
	for _, r := range v6Rules {
		if r.prefix.Contains(a) {
			return r.verdict
		}
	}
	if !globalUnicast.Contains(a) {
		return verdict{class: classRefused, reason: "a reserved IPv6 address (outside 2000::/3)"}
	}
	return verdict{class: classPublic, reason: "a public address"}
}
