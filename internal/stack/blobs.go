package stack

import (
	"net"
	"path/filepath"
	"slices"

	"github.com/aiflow/aiflow/internal/s3api"
	"github.com/aiflow/aiflow/internal/stackmodel"
)

// s3Folder is where the S3 API keeps the buckets' objects, under DataDir.
const s3Folder = "s3"

// startS3 serves the S3 API over the template's buckets (the blob store
// of large step results, BlobBucket), named as CloudFormation names them,
// their objects kept under DataDir/s3. The functions reach it through
// AWS_ENDPOINT_URL_S3 with the S3 client they use on AWS.
func (s *Stack) startS3(ln net.Listener, m *stackmodel.Stack) error {
	names := stackmodel.AWSNames{StackName: s.p.StackName, Region: s.p.Region, AccountID: s.p.AccountID}
	var buckets []string
	for id, r := range m.Resources {
		if r.Type != "AWS::S3::Bucket" {
			continue
		}
		name, _ := r.Properties["BucketName"].(string)
		ref, err := names.Ref(stackmodel.ResourceRef{LogicalID: id, Type: r.Type, Name: name})
		if err != nil {
			return resourceErr(id, "", "naming the bucket: %w", err)
		}
		buckets = append(buckets, ref)
	}
	slices.Sort(buckets)
	h, err := s3api.NewHandler(s3api.Options{Dir: filepath.Join(s.p.DataDir, s3Folder), Buckets: buckets, Logger: s.logger})
	if err != nil {
		return err
	}
	s.serve(ln, h)
	return nil
}
