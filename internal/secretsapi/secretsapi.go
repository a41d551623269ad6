// Package secretsapi serves the AWS Secrets Manager API over HTTP in the
// AWS JSON 1.1 protocol (POST / with X-Amz-Target:
// secretsmanager.<Action> and Content-Type application/x-amz-json-1.1),
// so that functions running on this machine read their secrets with the
// real aws-sdk-go-v2 secretsmanager client, pointed here by
// AWS_ENDPOINT_URL_SECRETS_MANAGER, exactly as they do on AWS.
//
// It serves GetSecretValue (by name, full ARN or partial ARN, by
// VersionStage or VersionId), DescribeSecret, ListSecrets (paged, with
// the "name" filter), CreateSecret and PutSecretValue. Errors carry the
// Secrets Manager names the SDK decodes into its typed errors:
// ResourceNotFoundException, InvalidParameterException,
// InvalidRequestException, ResourceExistsException and
// InvalidNextTokenException. ARNs are formed as AWS forms them, the
// random part read from the Service's source of randomness:
//
//	arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 random characters>
//
// Secrets live in a Store: MemoryStore, or FileStore, a JSON file made on
// first start with 0600 permissions and rewritten atomically (temp file
// and rename) on every change, so values survive restarts. Ensure creates
// the secrets a template declares that do not exist yet, with values
// generated from crypto/rand the way CloudFormation's
// GenerateSecretString does, and never overwrites one that exists.
//
// A secret's value never appears in a log record or an error message:
// logs and errors name secrets by name and version only, and a body that
// does not decode is refused without quoting it.
//
// Requests are not authenticated: SigV4 Authorization headers are
// accepted and ignored, whatever the credentials. Rotation, replication,
// resource policies, tags, KMS keys and deletion are not served; their
// actions are refused with InvalidRequestException naming the action.
package secretsapi

import (
	"errors"
	"slices"
	"time"
)

// Version stages Secrets Manager attaches to a secret's versions.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// Secret is one secret with its versions: the current one (staged
// AWSCURRENT) and, after a PutSecretValue, the one it replaced (staged
// AWSPREVIOUS). A secret created without a value has no versions.
type Secret struct {
	Name            string    `json:"name"`
	ARN             string    `json:"arn"`
	Description     string    `json:"description,omitempty"`
	CreatedDate     time.Time `json:"createdDate"`
	LastChangedDate time.Time `json:"lastChangedDate"`
	Versions        []Version `json:"versions,omitempty"`
}

// Version is one value of a secret: a string or bytes.
type Version struct {
	ID           string    `json:"id"`
	Stages       []string  `json:"stages"`
	SecretString *string   `json:"secretString,omitempty"`
	SecretBinary []byte    `json:"secretBinary,omitempty"`
	CreatedDate  time.Time `json:"createdDate"`
}

// version returns the version with the id, or staged with stage when id
// is empty.
func (s *Secret) version(id, stage string) (Version, bool) {
	for _, v := range s.Versions {
		if (id != "" && v.ID == id) || (id == "" && slices.Contains(v.Stages, stage)) {
			if id != "" && stage != "" && !slices.Contains(v.Stages, stage) {
				return Version{}, false
			}
			return v, true
		}
	}
	return Version{}, false
}

// stages maps every version id to its stages.
func (s *Secret) stages() map[string][]string {
	if len(s.Versions) == 0 {
		return nil
	}
	m := make(map[string][]string, len(s.Versions))
	for _, v := range s.Versions {
		m[v.ID] = v.Stages
	}
	return m
}

// clone returns a copy of s that shares no slice with it.
func (s Secret) clone() Secret {
	s.Versions = slices.Clone(s.Versions)
	for i, v := range s.Versions {
		v.Stages = slices.Clone(v.Stages)
		if v.SecretString != nil {
			str := *v.SecretString
			v.SecretString = &str
		}
		v.SecretBinary = slices.Clone(v.SecretBinary)
		s.Versions[i] = v
	}
	return s
}

// ErrNotFound is returned by a Store that has no secret by the name asked
// for.
var ErrNotFound = errors.New("secret not found")

// ErrExists is returned by a Store's Create when a secret by that name
// exists.
var ErrExists = errors.New("secret already exists")
