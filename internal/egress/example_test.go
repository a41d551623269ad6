package egress_test

import (
	"errors"
	"fmt"

	"github.com/aiflow/aiflow/internal/egress"
)

func ExampleGuard_CheckURL() {
	g := egress.New(egress.Config{})
	for _, raw := range []string{
		"https://threat-intel.example.com/v1/cve/CVE-2021-44228",
		"http://2130706433:8080/",
		"http://[::ffff:169.254.169.254]/latest/meta-data/",
		"gopher://example.com/",
	} {
		err := g.CheckURL(raw, egress.Policy{})
		fmt.Println(errors.Is(err, egress.ErrForbidden), err)
	}
	// Output:
	// false <nil>
	// true egress refused for http://2130706433:8080/: 127.0.0.1 is a loopback address (only an instance an admin registered as internal may use one)
	// true egress refused for http://[::ffff:169.254.169.254]/latest/meta-data/: ::ffff:169.254.169.254 is the IPv4-mapped form of the cloud instance metadata address (AWS, GCP, Azure, OCI)
	// true egress refused for gopher://example.com/: the scheme "gopher" is not allowed (only http and https are)
}

func ExampleGuard_CheckURL_internal() {
	g := egress.New(egress.Config{})
	internal := egress.Policy{AllowPrivate: true}
	fmt.Println(g.CheckURL("http://10.0.4.17:8080/", internal))
	fmt.Println(g.CheckURL("http://169.254.169.254/", internal))
	// Output:
	// <nil>
	// egress refused for http://169.254.169.254/: 169.254.169.254 is the cloud instance metadata address (AWS, GCP, Azure, OCI)
}
