package engine

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aiflow/aiflow/internal/sfn"
)

// tagText is what a tag key or value may hold: Unicode letters, digits,
// white space and _ . : / = + - @ (TagResource API reference).
var tagText = regexp.MustCompile(`^[\p{L}\p{N}\s_.:/=+\-@]*$`)

// checkTags applies the rules of TagResource to tags: keys of 1 to 128
// characters, values of up to 256, both of tagText, and no "aws:" prefix
// on a key (reserved for AWS).
func checkTags(tags []sfn.Tag) error {
	for i, t := range tags {
		switch {
		case t.Key == "" || utf8.RuneCountInString(t.Key) > 128:
			return errorf(sfn.CodeValidation, "tags[%d]: a tag key has 1 to 128 characters, not %d", i, utf8.RuneCountInString(t.Key))
		case utf8.RuneCountInString(t.Value) > 256:
			return errorf(sfn.CodeValidation, "tags[%d] (%s): a tag value has at most 256 characters, not %d", i, t.Key, utf8.RuneCountInString(t.Value))
		case !tagText.MatchString(t.Key) || !tagText.MatchString(t.Value):
			return errorf(sfn.CodeValidation, "tags[%d] (%s): tags may hold only Unicode letters, digits, white space and _ . : / = + - @", i, t.Key)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return errorf(sfn.CodeValidation, "tags[%d]: the tag key prefix aws: is reserved for AWS", i)
		}
	}
	return nil
}

// withTags returns have with tags set over it, or TooManyTags when the
// resource would carry more than sfn.MaxTags.
func withTags(resourceARN string, have map[string]string, tags []sfn.Tag) (map[string]string, error) {
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	out := maps.Clone(have)
	if out == nil {
		out = map[string]string{}
	}
	for _, t := range tags {
		out[t.Key] = t.Value
	}
	if len(out) > sfn.MaxTags {
		return nil, &sfn.Error{Code: sfn.CodeTooManyTags,
			Message: "resource " + resourceARN + " would have " + itoa(len(out)) + " tags; the limit is " + itoa(sfn.MaxTags)}
	}
	return out, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// tagList lists tags in key order.
func tagList(tags map[string]string) []sfn.Tag {
	out := make([]sfn.Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, sfn.Tag{Key: k, Value: tags[k]})
	}
	return out
}

// taggedMachineLocked returns the state machine a tag operation names.
// Step Functions tags state machines and activities; a version's or an
// alias's ARN is refused. The caller holds e.mu.
func (e *Engine) taggedMachineLocked(resourceARN string) (*machine, error) {
	if _, err := checkStateMachineARN(resourceARN); err != nil {
		if _, qerr := parseTarget(resourceARN); qerr == nil {
			return nil, errorf(sfn.CodeInvalidArn, "tags belong to the state machine, not to its versions or aliases: %s", resourceARN)
		}
		return nil, errorf(sfn.CodeInvalidArn, "invalid resource ARN %q: want a state machine's or an activity's", resourceARN)
	}
	m := e.machines[resourceARN]
	if m == nil {
		return nil, errorf(sfn.CodeResourceNotFound, "resource %s does not exist", resourceARN)
	}
	return m, nil
}

// TagResource adds tags to a state machine or replaces the values of its
// keys. More than sfn.MaxTags tags on the resource is TooManyTags; an
// unknown resource is ResourceNotFound.
func (e *Engine) TagResource(ctx context.Context, resourceARN string, tags []sfn.Tag) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.taggedMachineLocked(resourceARN)
	if err != nil {
		return err
	}
	next, err := withTags(resourceARN, m.rec.Tags, tags)
	if err != nil {
		return err
	}
	return e.putTagsLocked(ctx, m, next, "TagResource")
}

func (e *Engine) putTagsLocked(ctx context.Context, m *machine, tags map[string]string, op string) error {
	rec := m.rec
	rec.Tags = tags
	if err := e.store.PutStateMachine(ctx, rec); err != nil {
		return e.storeError(op, err)
	}
	e.machines[rec.ARN] = &machine{rec: rec, sm: m.sm}
	return nil
}

// UntagResource removes tags by key; a key the resource does not carry
// is no error.
func (e *Engine) UntagResource(ctx context.Context, resourceARN string, keys []string) error {
	if err := e.checkOpen(); err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.taggedMachineLocked(resourceARN)
	if err != nil {
		return err
	}
	next := maps.Clone(m.rec.Tags)
	for _, k := range keys {
		delete(next, k)
	}
	return e.putTagsLocked(ctx, m, next, "UntagResource")
}

// ListTagsForResource lists a resource's tags in key order.
func (e *Engine) ListTagsForResource(ctx context.Context, resourceARN string) ([]sfn.Tag, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	m, err := e.taggedMachineLocked(resourceARN)
	if err != nil {
		return nil, err
	}
	return tagList(m.rec.Tags), nil
}
