package s3api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/aiflow/aiflow/internal/awsjson/awsjsontest"
	"github.com/aiflow/aiflow/internal/blob"
	"github.com/aiflow/aiflow/internal/blob/blobtest"
	"github.com/aiflow/aiflow/internal/blob/s3blob"
	"github.com/aiflow/aiflow/internal/s3api"
)

const bucket = "aiflow-blobs"

// serve starts the API on loopback (with TLS when tls is set) and
// returns its URL and an SDK client for it, configured as
// config.LoadDefaultConfig configures one.
func serve(t *testing.T, tls bool) (string, *s3.Client) {
	t.Helper()
	h, err := s3api.NewHandler(s3api.Options{Dir: t.TempDir(), Buckets: []string{bucket}})
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	cfg := aws.Config{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("local", "local", ""),
		HTTPClient:                 srv.Client(),
		BaseEndpoint:               aws.String(srv.URL),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	return srv.URL, s3.NewFromConfig(cfg, s3blob.UsePathStyleForEndpoint)
}

// The blob store on S3 passes its suite against the API, with the SDK's
// client over HTTP and over HTTPS (aws-chunked bodies, trailing
// checksums).
func TestBlobStoreOverTheAPI(t *testing.T) {
	t.Parallel()
	for name, tls := range map[string]bool{"http": false, "https": true} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			blobtest.Run(t, blobtest.Suite{
				NewFunc: func(t *testing.T) blob.Store {
					_, client := serve(t, tls)
					return s3blob.New(client, bucket)
				},
				Scheme: "s3://" + bucket + "/",
			})
		})
	}
}

func TestSDKOperations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, client := serve(t, false)
	key := aws.String("a/../b/c.json")
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: key, Body: strings.NewReader(`{"a":1}`), ContentType: aws.String("application/json")})
	require.NoError(t, err)
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: key})
	require.NoError(t, err)
	require.Equal(t, int64(7), aws.ToInt64(head.ContentLength))
	require.Equal(t, "application/json", aws.ToString(head.ContentType))

	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: key})
	require.NoError(t, err)
	_, err = client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: key})
	var notFound *types.NotFound
	require.True(t, errors.As(err, &notFound), "%v", err)
	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: key})
	var noKey *types.NoSuchKey
	require.True(t, errors.As(err, &noKey), "%v", err)
	_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: key})
	require.NoError(t, err, "deleting what is not there succeeds, as on S3")

	_, err = client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("another"), Key: key})
	require.ErrorContains(t, err, "NoSuchBucket")
	_, err = client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	require.ErrorContains(t, err, "NotImplemented")
}

func TestRefusesABodyThatDoesNotMatchItsChecksum(t *testing.T) {
	t.Parallel()
	url, _ := serve(t, false)
	req, err := http.NewRequest(http.MethodPut, url+"/"+bucket+"/k", strings.NewReader("hello"))
	require.NoError(t, err)
	req.Header.Set("x-amz-checksum-sha256", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// TestAWSCLI drives the four operations with the AWS CLI's s3api.
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url, _ := serve(t, false)
	cli := awsjsontest.NewCLI(t, "s3api", url)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	require.NoError(t, os.WriteFile(in, []byte(`{"report":"long"}`), 0o600))

	put := cli.Run(t, ctx, "put-object", "--bucket", bucket, "--key", "x/run/step/abc.json", "--body", in, "--content-type", "application/json")
	require.NotEmpty(t, put["ETag"])
	head := cli.Run(t, ctx, "head-object", "--bucket", bucket, "--key", "x/run/step/abc.json")
	require.Equal(t, "application/json", head["ContentType"])
	require.EqualValues(t, 17, head["ContentLength"])
	out := filepath.Join(dir, "out.json")
	cli.Run(t, ctx, "get-object", "--bucket", bucket, "--key", "x/run/step/abc.json", out)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, `{"report":"long"}`, string(got))
	cli.Run(t, ctx, "delete-object", "--bucket", bucket, "--key", "x/run/step/abc.json")
	res, err := cli.Command(ctx, "head-object", "--bucket", bucket, "--key", "x/run/step/abc.json").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(res), "404")
}
