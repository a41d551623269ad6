package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// target is a host as the guard reads it: an address, whatever its
// spelling, or a DNS name.
type target struct {
	// addr is set when the host spells an address.
	addr netip.Addr
	// name is set otherwise: lower-case ASCII, without a trailing dot.
	name string
}

// parseHost reads a URL's host (without port or brackets' meaning lost:
// "[::1]" and "::1" both read as ::1) the way a browser's URL parser and
// the C library's inet_aton would, so that no spelling of an address
// passes for a name:
//
//   - an IPv6 literal, with or without brackets, zone and case ignored;
//   - a non-ASCII host is mapped as IDNA's UTS #46 lookup does (as Go's
//     HTTP transport does before it dials), so full-width digits and
//     ideographic full stops become digits and dots;
//   - a host whose last label is a number ("ends in a number", in the URL
//     Standard's words: all digits, or 0x and hex digits) is an IPv4
//     address in the URL Standard's and inet_aton's syntax: one to four
//     parts, each decimal, octal (leading 0) or hexadecimal (0x), the
//     last filling the remaining bytes (127.1, 0x7f.1, 2130706433,
//     0177.0.0.1), with one trailing dot allowed; anything else that ends
//     in a number is refused, never looked up;
//   - every other host must be a DNS name of letters, digits, hyphens and
//     underscores, in labels of 1 to 63 characters.
func parseHost(host string) (target, error) {
	if host == "" {
		return target{}, errors.New("there is no host")
	}
	if strings.HasPrefix(host, "[") {
		if !strings.HasSuffix(host, "]") {
			return target{}, fmt.Errorf("%q is not a valid IPv6 literal", host)
		}
		host = host[1 : len(host)-1]
		if !strings.Contains(host, ":") {
			return target{}, fmt.Errorf("%q is not a valid IPv6 literal", host)
		}
	}
	if strings.Contains(host, ":") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return target{}, fmt.Errorf("%q is not a valid IPv6 address", host)
		}
		return target{addr: a}, nil
	}
	if !isASCII(host) {
		mapped, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return target{}, fmt.Errorf("%q is not a valid international domain name: %v", host, err)
		}
		host = mapped
	}
	host = strings.ToLower(host)
	if a, numeric, err := parseIPv4(host); numeric {
		if err != nil {
			return target{}, fmt.Errorf("%q ends in a number but is not a valid IPv4 address: %v", host, err)
		}
		return target{addr: a}, nil
	}
	name := strings.TrimSuffix(host, ".")
	if err := checkDNSName(name); err != nil {
		return target{}, fmt.Errorf("%q is not a valid host name: %v", host, err)
	}
	return target{name: name}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// checkDNSName accepts lower-case names of letters, digits, hyphens and
// underscores, in labels of 1 to 63 characters, 253 in all.
func checkDNSName(name string) error {
	if len(name) > 253 {
		return errors.New("it is longer than 253 characters")
	}
	for label := range strings.SplitSeq(name, ".") {
		if label == "" {
			return errors.New("it has an empty label")
		}
		if len(label) > 63 {
			return errors.New("it has a label longer than 63 characters")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
				return fmt.Errorf("it has the character %q", c)
			}
		}
	}
	return nil
}

// parseIPv4 is the URL Standard's IPv4 parser. numeric reports whether the
// host ends in a number, so is to be read as an address at all; err says
// why such a host is not a valid one.
func parseIPv4(host string) (addr netip.Addr, numeric bool, err error) {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	last := parts[len(parts)-1]
	if last == "" {
		return netip.Addr{}, false, nil
	}
	if _, ok := parseIPv4Number(last); !ok && !allDigits(last) {
		return netip.Addr{}, false, nil
	}
	if len(parts) > 4 {
		return netip.Addr{}, true, errors.New("it has more than four parts")
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, ok := parseIPv4Number(p)
		if !ok {
			return netip.Addr{}, true, fmt.Errorf("%q is not a decimal, octal or hexadecimal number", p)
		}
		nums[i] = n
	}
	for _, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, true, fmt.Errorf("%d is over 255", n)
		}
	}
	limit := uint64(1) << (8 * (5 - len(nums)))
	if nums[len(nums)-1] >= limit {
		return netip.Addr{}, true, fmt.Errorf("%d is too large for its place", nums[len(nums)-1])
	}
	v := nums[len(nums)-1]
	for i, n := range nums[:len(nums)-1] {
		v += n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseIPv4Number reads one part: 0x or 0X and hex digits (none is 0),
// a leading 0 and octal digits, or decimal digits. Values past 2^32 are
// refused by their length before they can overflow.
func parseIPv4Number(s string) (uint64, bool) {
	if s == "" {
		return 0, false
	}
	base := uint64(10)
	switch {
	case len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, s = 16, s[2:]
	case len(s) >= 2 && s[0] == '0':
		base, s = 8, s[1:]
	}
	if s == "" {
		return 0, true
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		d, ok := digit(s[i], base)
		if !ok {
			return 0, false
		}
		v = v*base + d
		if v > 1<<40 {
			// Over any place's limit; keep reading only to refuse a bad digit.
			v = 1 << 40
		}
	}
	return v, true
}

func digit(c byte, base uint64) (uint64, bool) {
	var d uint64
	switch {
	case c >= '0' && c <= '9':
		d = uint64(c - '0')
	case c >= 'a' && c <= 'f':
		d = uint64(c-'a') + 10
	case c >= 'A' && c <= 'F':
		d = uint64(c-'A') + 10
	default:
		return 0, false
	}
	return d, d < base
}
