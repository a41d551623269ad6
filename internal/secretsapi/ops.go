package secretsapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// CodeInvalidNextToken answers a ListSecrets NextToken this service did
// not give.
const CodeInvalidNextToken = "InvalidNextTokenException"

// Limits of the Secrets Manager API.
const (
	maxNameLength     = 512
	maxSecretIDLength = 2048
	minTokenLength    = 32
	maxTokenLength    = 64
	maxListResults    = 100
	arnSuffixLength   = 6
	alnum             = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// decode reads body into out, refusing members the action does not have.
// The messages name members only: a body may hold a secret's value.
func decode(action string, body []byte, allowed []string, out any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return badRequest(CodeSerialization, "the %s request body is not a JSON object", action)
	}
	for name := range members {
		if !slices.Contains(allowed, name) {
			return badRequest(CodeSerialization, "%s has no member %q", action, name)
		}
	}
	if err := json.Unmarshal(body, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest(CodeSerialization, "member %s of the %s request has the wrong type", te.Field, action)
		}
		return badRequest(CodeSerialization, "the %s request body does not decode", action)
	}
	return nil
}

// notFound is the error of a secret id that names no secret.
func notFound(id string) error {
	return badRequest(CodeResourceNotFound, "Secrets Manager can't find the specified secret %q.", id)
}

// arnPrefix starts the ARN of every secret of this service.
func (s *Service) arnPrefix() string {
	return "arn:aws:secretsmanager:" + s.region + ":" + s.account + ":secret:"
}

// resolve returns the secret a SecretId names: its name, its ARN or its
// partial ARN (the ARN without the random suffix).
func (s *Service) resolve(ctx context.Context, id string) (Secret, error) {
	if id == "" {
		return Secret{}, badRequest(CodeInvalidParameter, "SecretId is required")
	}
	if len(id) > maxSecretIDLength {
		return Secret{}, badRequest(CodeInvalidParameter, "SecretId is longer than %d characters", maxSecretIDLength)
	}
	name := id
	if strings.HasPrefix(id, "arn:") {
		rest, ok := strings.CutPrefix(id, s.arnPrefix())
		if !ok {
			return Secret{}, notFound(id)
		}
		sec, err := s.store.Get(ctx, rest) // a partial ARN
		if err == nil || !errors.Is(err, ErrNotFound) {
			return sec, s.storeError(id, err)
		}
		if n := len(rest) - arnSuffixLength - 1; n <= 0 || rest[n] != '-' {
			return Secret{}, notFound(id)
		}
		name = rest[:len(rest)-arnSuffixLength-1]
		sec, err = s.store.Get(ctx, name)
		if err == nil && sec.ARN != id {
			return Secret{}, notFound(id) // a secret of that name, made again since
		}
		return sec, s.storeError(id, err)
	}
	sec, err := s.store.Get(ctx, name)
	return sec, s.storeError(id, err)
}

// SecretString returns the current string value (stage AWSCURRENT) of the
// secret id names, as GetSecretValue resolves it (a name, an ARN or a
// partial ARN): the value a CloudFormation dynamic reference reads. Its
// errors name the secret, never its value: ErrNotFound's class when there
// is no such secret or no current string value.
func (s *Service) SecretString(ctx context.Context, id string) (string, error) {
	sec, err := s.resolve(ctx, id)
	var apiErr *apiError
	if errors.As(err, &apiErr) && apiErr.Code == CodeResourceNotFound {
		return "", fmt.Errorf("the secret %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", err
	}
	v, ok := sec.version("", StageCurrent)
	if !ok || v.SecretString == nil {
		return "", fmt.Errorf("the secret %s has no current string value: %w", sec.Name, ErrNotFound)
	}
	return *v.SecretString, nil
}

// storeError translates a Store's error about the secret id.
func (s *Service) storeError(id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return notFound(id)
	case errors.Is(err, ErrExists):
		return badRequest(CodeResourceExists, "the secret %s already exists.", id)
	}
	return fmt.Errorf("reading or writing secret %q in the store: %w", id, err)
}

// validName checks a secret's name as Secrets Manager does.
func validName(name string) error {
	if name == "" {
		return badRequest(CodeInvalidParameter, "Name is required")
	}
	if len(name) > maxNameLength {
		return badRequest(CodeInvalidParameter, "the secret name is longer than %d characters", maxNameLength)
	}
	for _, r := range name {
		if !strings.ContainsRune(alnum+"/_+=.@-", r) {
			return badRequest(CodeInvalidParameter, "Invalid name %q: a secret name can contain only ASCII letters, numbers and the characters /_+=.@-", name)
		}
	}
	return nil
}

// validToken checks a ClientRequestToken.
func validToken(token *string) error {
	if token != nil && (len(*token) < minTokenLength || len(*token) > maxTokenLength) {
		return badRequest(CodeInvalidParameter, "ClientRequestToken must be %d to %d characters long", minTokenLength, maxTokenLength)
	}
	return nil
}

// valueMembers are a request's value: a string or bytes, exactly one.
type valueMembers struct {
	SecretString *string `json:"SecretString"`
	SecretBinary []byte  `json:"SecretBinary"`
}

// check returns an error when the value is too large or both kinds are
// given; required says that one must be.
func (v valueMembers) check(required bool) error {
	switch {
	case v.SecretString != nil && v.SecretBinary != nil:
		return badRequest(CodeInvalidParameter, "You can't specify both a binary secret value and a string secret value in the same secret.")
	case required && v.SecretString == nil && v.SecretBinary == nil:
		return badRequest(CodeInvalidParameter, "You must provide either SecretString or SecretBinary.")
	case v.SecretString != nil && len(*v.SecretString) > maxSecretBytes,
		len(v.SecretBinary) > maxSecretBytes:
		return badRequest(CodeInvalidParameter, "the secret value is larger than %d bytes", maxSecretBytes)
	}
	return nil
}

func (v valueMembers) has() bool { return v.SecretString != nil || v.SecretBinary != nil }

// equal reports whether the version holds the value.
func (v valueMembers) equal(ver Version) bool {
	if (v.SecretString == nil) != (ver.SecretString == nil) {
		return false
	}
	if v.SecretString != nil {
		return *v.SecretString == *ver.SecretString
	}
	return bytes.Equal(v.SecretBinary, ver.SecretBinary)
}

// versionID is the id of a new version: the request's token, or a random
// UUID.
func (s *Service) versionID(token *string) (string, error) {
	if token != nil {
		return *token, nil
	}
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		return "", fmt.Errorf("making a version id: %w", err)
	}
	return id.String(), nil
}

// ---------------------------------------------------------------- GetSecretValue

type getSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	SecretString  *string  `json:"SecretString,omitempty"`
	SecretBinary  []byte   `json:"SecretBinary,omitempty"`
	VersionStages []string `json:"VersionStages"`
	CreatedDate   epoch    `json:"CreatedDate"`
}

func (s *Service) getSecretValue(ctx context.Context, body []byte) (any, string, error) {
	var in struct {
		SecretID     string `json:"SecretId"`
		VersionID    string `json:"VersionId"`
		VersionStage string `json:"VersionStage"`
	}
	if err := decode("GetSecretValue", body, []string{"SecretId", "VersionId", "VersionStage"}, &in); err != nil {
		return nil, "", err
	}
	sec, err := s.resolve(ctx, in.SecretID)
	if err != nil {
		return nil, in.SecretID, err
	}
	stage := in.VersionStage
	if stage == "" && in.VersionID == "" {
		stage = StageCurrent
	}
	v, ok := sec.version(in.VersionID, stage)
	if !ok {
		if in.VersionID != "" {
			return nil, sec.Name, badRequest(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for VersionId: %s", in.VersionID)
		}
		return nil, sec.Name, badRequest(CodeResourceNotFound, "Secrets Manager can't find the specified secret value for staging label: %s", stage)
	}
	return getSecretValueOutput{
		ARN: sec.ARN, Name: sec.Name, VersionID: v.ID, SecretString: v.SecretString, SecretBinary: v.SecretBinary,
		VersionStages: v.Stages, CreatedDate: epoch(v.CreatedDate),
	}, sec.Name, nil
}

// ---------------------------------------------------------------- DescribeSecret

type describeSecretOutput struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description,omitempty"`
	CreatedDate        epoch               `json:"CreatedDate"`
	LastChangedDate    epoch               `json:"LastChangedDate"`
	VersionIDsToStages map[string][]string `json:"VersionIdsToStages,omitempty"`
}

func (s *Service) describeSecret(ctx context.Context, body []byte) (any, string, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := decode("DescribeSecret", body, []string{"SecretId"}, &in); err != nil {
		return nil, "", err
	}
	sec, err := s.resolve(ctx, in.SecretID)
	if err != nil {
		return nil, in.SecretID, err
	}
	return describeSecretOutput{
		ARN: sec.ARN, Name: sec.Name, Description: sec.Description, CreatedDate: epoch(sec.CreatedDate),
		LastChangedDate: epoch(sec.LastChangedDate), VersionIDsToStages: sec.stages(),
	}, sec.Name, nil
}

// ---------------------------------------------------------------- ListSecrets

type secretListEntry struct {
	ARN                    string              `json:"ARN"`
	Name                   string              `json:"Name"`
	Description            string              `json:"Description,omitempty"`
	CreatedDate            epoch               `json:"CreatedDate"`
	LastChangedDate        epoch               `json:"LastChangedDate"`
	SecretVersionsToStages map[string][]string `json:"SecretVersionsToStages,omitempty"`
}

type listSecretsOutput struct {
	SecretList []secretListEntry `json:"SecretList"`
	NextToken  string            `json:"NextToken,omitempty"`
}

// filter is one ListSecrets filter.
type filter struct {
	Key    string   `json:"Key"`
	Values []string `json:"Values"`
}

// match reports whether a name passes every "name" filter: one of its
// values is a prefix of the name, or, with a leading "!", none of them
// is.
func match(filters []filter, name string) bool {
	for _, f := range filters {
		ok := false
		for _, v := range f.Values {
			if neg, isNeg := strings.CutPrefix(v, "!"); isNeg {
				ok = ok || !strings.HasPrefix(name, neg)
			} else {
				ok = ok || strings.HasPrefix(name, v)
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func (s *Service) listSecrets(ctx context.Context, body []byte) (any, string, error) {
	var in struct {
		MaxResults             *int     `json:"MaxResults"`
		NextToken              *string  `json:"NextToken"`
		Filters                []filter `json:"Filters"`
		IncludePlannedDeletion bool     `json:"IncludePlannedDeletion"`
		SortOrder              string   `json:"SortOrder"`
		SortBy                 string   `json:"SortBy"`
	}
	if err := decode("ListSecrets", body, []string{"MaxResults", "NextToken", "Filters", "IncludePlannedDeletion", "SortOrder", "SortBy"}, &in); err != nil {
		return nil, "", err
	}
	if in.SortBy != "" && in.SortBy != "name" {
		return nil, "", badRequest(CodeInvalidParameter, "SortBy %q is not supported by the local Secrets Manager, which sorts by name only", in.SortBy)
	}
	limit := maxListResults
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > maxListResults {
			return nil, "", badRequest(CodeInvalidParameter, "MaxResults must be between 1 and %d", maxListResults)
		}
		limit = *in.MaxResults
	}
	for _, f := range in.Filters {
		if f.Key != "name" {
			return nil, "", badRequest(CodeInvalidParameter, "filter key %q is not supported by the local Secrets Manager, which filters by name only", f.Key)
		}
		if len(f.Values) == 0 {
			return nil, "", badRequest(CodeInvalidParameter, "filter %q has no values", f.Key)
		}
	}
	desc := false
	switch in.SortOrder {
	case "", "asc":
	case "desc":
		desc = true
	default:
		return nil, "", badRequest(CodeInvalidParameter, "SortOrder must be asc or desc")
	}
	after := ""
	if in.NextToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		if err != nil || len(raw) == 0 {
			return nil, "", badRequest(CodeInvalidNextToken, "the NextToken is not one ListSecrets gave")
		}
		after = string(raw)
	}
	all, err := s.store.List(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("listing secrets in the store: %w", err)
	}
	if desc {
		slices.Reverse(all)
	}
	out := listSecretsOutput{SecretList: []secretListEntry{}}
	for _, sec := range all {
		if after != "" && ((!desc && sec.Name <= after) || (desc && sec.Name >= after)) {
			continue
		}
		if !match(in.Filters, sec.Name) {
			continue
		}
		if len(out.SecretList) == limit {
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(out.SecretList[limit-1].Name))
			break
		}
		out.SecretList = append(out.SecretList, secretListEntry{
			ARN: sec.ARN, Name: sec.Name, Description: sec.Description, CreatedDate: epoch(sec.CreatedDate),
			LastChangedDate: epoch(sec.LastChangedDate), SecretVersionsToStages: sec.stages(),
		})
	}
	return out, "", nil
}

// ---------------------------------------------------------------- CreateSecret

type createSecretOutput struct {
	ARN       string `json:"ARN"`
	Name      string `json:"Name"`
	VersionID string `json:"VersionId,omitempty"`
}

// CreateParams describe a secret to create.
type CreateParams struct {
	Name        string
	Description string
	// SecretString or SecretBinary is the first version's value; with
	// neither, the secret has no version until a PutSecretValue.
	SecretString *string
	SecretBinary []byte
	// ClientRequestToken is the first version's id; nil means a random
	// UUID.
	ClientRequestToken *string
}

func (s *Service) createSecret(ctx context.Context, body []byte) (any, string, error) {
	var in struct {
		Name               string  `json:"Name"`
		ClientRequestToken *string `json:"ClientRequestToken"`
		Description        string  `json:"Description"`
		KmsKeyID           string  `json:"KmsKeyId"`
		Tags               []any   `json:"Tags"`
		AddReplicaRegions  []any   `json:"AddReplicaRegions"`
		ForceOverwrite     bool    `json:"ForceOverwriteReplicaSecret"`
		Type               string  `json:"Type"`
		valueMembers
	}
	if err := decode("CreateSecret", body, []string{"Name", "ClientRequestToken", "Description", "KmsKeyId", "Tags",
		"AddReplicaRegions", "ForceOverwriteReplicaSecret", "SecretString", "SecretBinary", "Type"}, &in); err != nil {
		return nil, "", err
	}
	switch {
	case in.KmsKeyID != "":
		return nil, in.Name, badRequest(CodeInvalidRequest, "KmsKeyId is not supported by the local Secrets Manager")
	case len(in.Tags) > 0:
		return nil, in.Name, badRequest(CodeInvalidRequest, "Tags are not supported by the local Secrets Manager")
	case len(in.AddReplicaRegions) > 0:
		return nil, in.Name, badRequest(CodeInvalidRequest, "AddReplicaRegions is not supported by the local Secrets Manager")
	case in.Type != "":
		return nil, in.Name, badRequest(CodeInvalidRequest, "Type is not supported by the local Secrets Manager")
	}
	out, err := s.Create(ctx, CreateParams{
		Name: in.Name, Description: in.Description, SecretString: in.SecretString, SecretBinary: in.SecretBinary,
		ClientRequestToken: in.ClientRequestToken,
	})
	if err != nil {
		return nil, in.Name, err
	}
	res := createSecretOutput{ARN: out.ARN, Name: out.Name}
	if len(out.Versions) > 0 {
		res.VersionID = out.Versions[0].ID
	}
	return res, in.Name, nil
}

// Create creates a secret, as CreateSecret does, and returns it. A
// request repeated with the same ClientRequestToken and value returns the
// secret it made. Its errors are those CreateSecret answers:
// InvalidParameterException for a name, token or value Secrets Manager
// refuses, ResourceExistsException when a secret has the name; and an
// error of the store.
func (s *Service) Create(ctx context.Context, p CreateParams) (Secret, error) {
	v := valueMembers{SecretString: p.SecretString, SecretBinary: p.SecretBinary}
	if err := validName(p.Name); err != nil {
		return Secret{}, err
	}
	if err := validToken(p.ClientRequestToken); err != nil {
		return Secret{}, err
	}
	if err := v.check(false); err != nil {
		return Secret{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, err := s.store.Get(ctx, p.Name); err == nil {
		if p.ClientRequestToken != nil {
			if ver, ok := old.version(*p.ClientRequestToken, ""); ok && v.equal(ver) {
				return old, nil // a retry of the request that made it
			}
		}
		return Secret{}, badRequest(CodeResourceExists, "The operation failed because the secret %s already exists.", p.Name)
	} else if !errors.Is(err, ErrNotFound) {
		return Secret{}, s.storeError(p.Name, err)
	}
	suffix, err := randomString(s.rand, arnSuffixLength, alnum)
	if err != nil {
		return Secret{}, fmt.Errorf("making the ARN of secret %q: %w", p.Name, err)
	}
	now := s.now().UTC()
	sec := Secret{
		Name: p.Name, ARN: s.arnPrefix() + p.Name + "-" + suffix, Description: p.Description,
		CreatedDate: now, LastChangedDate: now,
	}
	if v.has() {
		id, err := s.versionID(p.ClientRequestToken)
		if err != nil {
			return Secret{}, err
		}
		sec.Versions = []Version{{ID: id, Stages: []string{StageCurrent}, SecretString: v.SecretString, SecretBinary: v.SecretBinary, CreatedDate: now}}
	}
	if err := s.store.Create(ctx, sec); err != nil {
		return Secret{}, s.storeError(p.Name, err)
	}
	return sec, nil
}

// ---------------------------------------------------------------- PutSecretValue

type putSecretValueOutput struct {
	ARN           string   `json:"ARN"`
	Name          string   `json:"Name"`
	VersionID     string   `json:"VersionId"`
	VersionStages []string `json:"VersionStages"`
}

func (s *Service) putSecretValue(ctx context.Context, body []byte) (any, string, error) {
	var in struct {
		SecretID           string   `json:"SecretId"`
		ClientRequestToken *string  `json:"ClientRequestToken"`
		VersionStages      []string `json:"VersionStages"`
		RotationToken      string   `json:"RotationToken"`
		valueMembers
	}
	if err := decode("PutSecretValue", body, []string{"SecretId", "ClientRequestToken", "VersionStages", "RotationToken", "SecretString", "SecretBinary"}, &in); err != nil {
		return nil, "", err
	}
	if err := validToken(in.ClientRequestToken); err != nil {
		return nil, in.SecretID, err
	}
	if err := in.check(true); err != nil {
		return nil, in.SecretID, err
	}
	if in.RotationToken != "" {
		return nil, in.SecretID, badRequest(CodeInvalidRequest, "RotationToken is not supported by the local Secrets Manager, which does not rotate secrets")
	}
	if len(in.VersionStages) > 0 && !slices.Equal(in.VersionStages, []string{StageCurrent}) {
		return nil, in.SecretID, badRequest(CodeInvalidRequest, "the local Secrets Manager stages a new version %s only", StageCurrent)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	sec, err := s.resolve(ctx, in.SecretID)
	if err != nil {
		return nil, in.SecretID, err
	}
	if in.ClientRequestToken != nil {
		if ver, ok := sec.version(*in.ClientRequestToken, ""); ok {
			if !in.equal(ver) {
				return nil, sec.Name, badRequest(CodeResourceExists, "You can't modify an existing version, you can only create a new version: secret %s has a version %s with another value.", sec.Name, ver.ID)
			}
			return putSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionID: ver.ID, VersionStages: ver.Stages}, sec.Name, nil
		}
	}
	id, err := s.versionID(in.ClientRequestToken)
	if err != nil {
		return nil, sec.Name, err
	}
	now := s.now().UTC()
	versions := []Version{{ID: id, Stages: []string{StageCurrent}, SecretString: in.SecretString, SecretBinary: in.SecretBinary, CreatedDate: now}}
	if cur, ok := sec.version("", StageCurrent); ok {
		cur.Stages = []string{StagePrevious}
		versions = append(versions, cur)
	}
	sec.Versions = versions
	sec.LastChangedDate = now
	if err := s.store.Update(ctx, sec); err != nil {
		return nil, sec.Name, s.storeError(sec.Name, err)
	}
	return putSecretValueOutput{ARN: sec.ARN, Name: sec.Name, VersionID: id, VersionStages: []string{StageCurrent}}, sec.Name, nil
}

// randomString returns n characters of charset chosen uniformly from r.
func randomString(r io.Reader, n int, charset string) (string, error) {
	if len(charset) == 0 || len(charset) > 256 {
		return "", fmt.Errorf("choosing from %d characters: want 1 to 256", len(charset))
	}
	// Rejection sampling: bytes at or above the largest multiple of
	// len(charset) would favour the first characters.
	limit := 256 - 256%len(charset)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n+8)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("reading random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, charset[int(b)%len(charset)])
			}
		}
	}
	return string(out), nil
}
