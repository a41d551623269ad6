package secrets_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aiflow/aiflow/internal/secrets"
)

func ExampleEnv() {
	env := map[string]string{"AIFLOW_ANTHROPIC_API_KEY": "sk-ant-example"}
	src := secrets.Env{Prefix: "AIFLOW_", LookupEnvFunc: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}

	key, err := src.Get(context.Background(), "anthropic-api-key")
	fmt.Println(key, err)
	_, err = src.Get(context.Background(), "openai-api-key")
	fmt.Println(errors.Is(err, secrets.ErrNotFound), err)
	// Output:
	// sk-ant-example <nil>
	// true secret "openai-api-key" not found (environment variable AIFLOW_OPENAI_API_KEY)
}
