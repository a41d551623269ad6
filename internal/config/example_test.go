package config_test

import (
	"fmt"

	"github.com/aiflow/aiflow/internal/config"
)

func ExampleLoadDev() {
	env := map[string]string{
		"AIFLOW_HTTP_ADDR": "abc",
		"AIFLOW_LOG_LEVEL": "loud",
	}
	lookup := func(key string) (string, bool) {
		v, ok := env[key]
		return v, ok
	}

	_, err := config.LoadDev(lookup)
	fmt.Println(err)
	// Output:
	// aiflow dev: 2 configuration problems:
	//   AIFLOW_HTTP_ADDR: "abc" is not host:port (example: AIFLOW_HTTP_ADDR=127.0.0.1:8080)
	//   AIFLOW_LOG_LEVEL: "loud" is not one of debug, info, warn, error (example: AIFLOW_LOG_LEVEL=info)
}
