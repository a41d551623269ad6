package secretsapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/aiflow/aiflow/internal/secretsapi"
)

// The template's secrets made on first start in a local file, then read
// with the SDK's Secrets Manager client exactly as on AWS.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "secrets")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	store, err := secretsapi.OpenFileStore(filepath.Join(dir, "secrets.json"))
	if err != nil {
		fmt.Println(err)
		return
	}
	svc := secretsapi.New(store, secretsapi.Options{})
	created, err := svc.Ensure(ctx, []secretsapi.Declared{{
		Name: "aiflow/database",
		GenerateSecretString: &secretsapi.GenerateSecretString{
			SecretStringTemplate: `{"username": "aiflow_admin"}`,
			GenerateStringKey:    "password",
			ExcludePunctuation:   true,
		},
	}})
	fmt.Println("created:", created, err)

	srv := httptest.NewServer(svc)
	defer srv.Close()
	client := secretsmanager.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	out, err := client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("aiflow/database")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(*out.Name, out.VersionStages, len(*out.SecretString) > len(`{"password":"","username":"aiflow_admin"}`))
	info, _ := os.Stat(store.Path())
	fmt.Println(info.Mode().Perm())
	// Output:
	// created: [aiflow/database] <nil>
	// aiflow/database [AWSCURRENT] true
	// -rw-------
}
