package config

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLoadAuthTrustedProxies(t *testing.T) {
	t.Parallel()
	cfg, err := LoadAuth(env(map[string]string{"AIFLOW_TRUSTED_PROXIES": " 10.1.2.3/8, 192.0.2.10 ,2001:db8::/32,::ffff:198.51.100.1"}), "functions/api")
	require.NoError(t, err)
	require.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.10/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("198.51.100.1/32"),
	}, cfg.TrustedProxies)

	_, err = LoadAuth(env(map[string]string{"AIFLOW_TRUSTED_PROXIES": "10.0.0.0/33,proxy.internal"}), "functions/api")
	var got []string
	for _, p := range problems(t, err) {
		got = append(got, p.String())
	}
	require.Len(t, got, 2)
	require.Contains(t, got[0], `"10.0.0.0/33" is not a network in CIDR notation`)
	require.Contains(t, got[1], `"proxy.internal" is not an IP address or a network in CIDR notation`)
}
