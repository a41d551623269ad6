package sqsapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// actions are the served actions by X-Amz-Target name.
var actions = map[string]action{
	"CreateQueue":                  (*handler).createQueue,
	"GetQueueUrl":                  (*handler).getQueueURL,
	"ListQueues":                   (*handler).listQueues,
	"GetQueueAttributes":           (*handler).getQueueAttributes,
	"DeleteQueue":                  (*handler).deleteQueue,
	"PurgeQueue":                   (*handler).purgeQueue,
	"SendMessage":                  (*handler).sendMessage,
	"SendMessageBatch":             (*handler).sendMessageBatch,
	"ReceiveMessage":               (*handler).receiveMessage,
	"DeleteMessage":                (*handler).deleteMessage,
	"DeleteMessageBatch":           (*handler).deleteMessageBatch,
	"ChangeMessageVisibility":      (*handler).changeMessageVisibility,
	"ChangeMessageVisibilityBatch": (*handler).changeMessageVisibilityBatch,
}

// unsupportedActions are the other actions of the SQS API, with what the
// local queues lack to serve them.
var unsupportedActions = map[string]string{
	"SetQueueAttributes":         "changes to a queue after its creation",
	"AddPermission":              "access policies",
	"RemovePermission":           "access policies",
	"TagQueue":                   "tags",
	"UntagQueue":                 "tags",
	"ListQueueTags":              "tags",
	"ListDeadLetterSourceQueues": "listing of dead-letter source queues",
	"StartMessageMoveTask":       "message move tasks",
	"CancelMessageMoveTask":      "message move tasks",
	"ListMessageMoveTasks":       "message move tasks",
}

// Limits of the SQS API the handler checks itself.
const (
	maxBatchEntries    = 10
	maxBatchBytes      = 1 << 20
	maxVisibilitySecs  = 43_200
	maxDelaySeconds    = 900
	maxWaitTimeSeconds = 20
	maxListResults     = 1000
)

// fifoOnly is what refusing a FIFO feature says.
const fifoOnly = "the local queues are standard queues; FIFO queues are not supported"

// Queue attributes, by the names of the SQS API.
const (
	attrVisibilityTimeout      = "VisibilityTimeout"
	attrDelaySeconds           = "DelaySeconds"
	attrMessageRetentionPeriod = "MessageRetentionPeriod"
	attrMaximumMessageSize     = "MaximumMessageSize"
	attrReceiveWaitTime        = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy          = "RedrivePolicy"
	attrQueueARN               = "QueueArn"
	attrNumberOfMessages       = "ApproximateNumberOfMessages"
	attrNumberNotVisible       = "ApproximateNumberOfMessagesNotVisible"
	attrNumberDelayed          = "ApproximateNumberOfMessagesDelayed"
)

// unsupportedQueueAttributes are queue attributes of SQS the local queues
// do not have, with the value that asks for nothing, if any.
var unsupportedQueueAttributes = map[string]string{
	"FifoQueue":                    "false",
	"ContentBasedDeduplication":    "false",
	"DeduplicationScope":           "",
	"FifoThroughputLimit":          "",
	"KmsMasterKeyId":               "",
	"KmsDataKeyReusePeriodSeconds": "",
	"SqsManagedSseEnabled":         "false",
	"Policy":                       "",
	"RedriveAllowPolicy":           "",
}

// readableQueueAttributes are the attributes GetQueueAttributes answers
// with; the other names SQS has (CreatedTimestamp, Policy, ...) are
// accepted and left out, as SQS leaves out attributes a queue lacks.
var readableQueueAttributes = []string{
	attrQueueARN, attrNumberOfMessages, attrNumberNotVisible, attrNumberDelayed,
	attrVisibilityTimeout, attrDelaySeconds, attrMessageRetentionPeriod,
	attrMaximumMessageSize, attrReceiveWaitTime, attrRedrivePolicy,
}

var otherQueueAttributes = []string{
	"CreatedTimestamp", "LastModifiedTimestamp", "Policy", "RedriveAllowPolicy",
	"KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled",
	"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit",
}

// systemAttributes are the message system attributes ReceiveMessage can
// ask for; the broker has the first five.
var systemAttributes = []string{
	"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp", "AWSTraceHeader",
	"SequenceNumber", "MessageDeduplicationId", "MessageGroupId", "DeadLetterQueueSourceArn",
}

func (h *handler) createQueue(ctx context.Context, m *members) (any, error) {
	name := m.required("QueueName")
	attrs := m.StringMap("Attributes")
	m.unsupported("the local queues have no tags", "tags")
	if err := m.Done(); err != nil {
		return nil, err
	}
	if strings.HasSuffix(name, ".fifo") {
		return nil, badRequest(CodeUnsupportedOperation, "queue %q: %s", name, fifoOnly)
	}
	c, err := h.queueConfig(ctx, name, attrs)
	if err != nil {
		return nil, err
	}
	if h.queueURL != nil {
		c.URL = h.queueURL(name)
	}
	url, err := h.b.CreateQueue(ctx, c)
	if err != nil {
		return nil, err
	}
	return queueURLResponse{QueueURL: url}, nil
}

// queueConfig reads CreateQueue's attributes.
func (h *handler) queueConfig(ctx context.Context, name string, attrs map[string]string) (QueueConfig, error) {
	c := QueueConfig{Name: name}
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[k]
		seconds := func(lo, hi int) (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < lo || n > hi {
				return 0, badRequest(CodeInvalidAttributeValue, "queue %s: attribute %s is %q; it must be an integer from %d to %d", name, k, v, lo, hi)
			}
			return n, nil
		}
		var (
			n   int
			err error
		)
		switch k {
		case attrVisibilityTimeout:
			n, err = seconds(0, maxVisibilitySecs)
			c.VisibilityTimeout = time.Duration(n) * time.Second
			if err == nil && n == 0 {
				// The broker takes 0 as its default; SQS allows a queue
				// whose messages are visible again at once. Refuse it
				// rather than silently turning it into 30 s.
				err = badRequest(CodeInvalidAttributeValue, "queue %s: a VisibilityTimeout of 0 is not supported by the local queues", name)
			}
		case attrDelaySeconds:
			c.DelaySeconds, err = seconds(0, maxDelaySeconds)
		case attrMessageRetentionPeriod:
			n, err = seconds(60, 1_209_600)
			c.MessageRetention = time.Duration(n) * time.Second
		case attrMaximumMessageSize:
			c.MaximumMessageSize, err = seconds(1024, maxBatchBytes)
		case attrReceiveWaitTime:
			n, err = seconds(0, maxWaitTimeSeconds)
			c.ReceiveMessageWaitTime = time.Duration(n) * time.Second
		case attrRedrivePolicy:
			c.DeadLetterURL, c.MaxReceiveCount, err = h.redrivePolicy(ctx, name, v)
		default:
			off, known := unsupportedQueueAttributes[k]
			switch {
			case known && off != "" && strings.EqualFold(v, off):
			case known:
				err = badRequest(CodeUnsupportedOperation, "queue %s: attribute %s is not supported by the local queues (standard queues without encryption, policies or FIFO features)", name, k)
			default:
				err = badRequest(CodeInvalidAttributeName, "queue %s: unknown attribute %s", name, k)
			}
		}
		if err != nil {
			return QueueConfig{}, err
		}
	}
	return c, nil
}

// redrivePolicy reads a RedrivePolicy: its dead-letter queue's URL and
// maxReceiveCount, which SQS takes as a number or a string.
func (h *handler) redrivePolicy(ctx context.Context, name, v string) (string, int, error) {
	var p struct {
		DeadLetterTargetARN string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	bad := func(why string) (string, int, error) {
		return "", 0, badRequest(CodeInvalidAttributeValue, "queue %s: RedrivePolicy %s: %s", name, v, why)
	}
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return bad("it is not a JSON object with deadLetterTargetArn and maxReceiveCount")
	}
	count, err := strconv.Atoi(strings.Trim(string(p.MaxReceiveCount), `"`))
	if err != nil || count < 1 || count > 1000 {
		return bad("maxReceiveCount must be an integer from 1 to 1000")
	}
	parts := strings.Split(p.DeadLetterTargetARN, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" {
		return bad("deadLetterTargetArn must be a queue ARN, arn:aws:sqs:<region>:<account>:<name>")
	}
	url, err := h.b.QueueURL(ctx, parts[5])
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeQueueDoesNotExist {
			return "", 0, badRequest(CodeInvalidParameterValue, "queue %s: RedrivePolicy: dead-letter target %s does not exist", name, p.DeadLetterTargetARN)
		}
		return "", 0, err
	}
	return url, count, nil
}

func (h *handler) getQueueURL(ctx context.Context, m *members) (any, error) {
	name := m.required("QueueName")
	m.Ignore("QueueOwnerAWSAccountId")
	if err := m.Done(); err != nil {
		return nil, err
	}
	url, err := h.b.QueueURL(ctx, name)
	if err != nil {
		return nil, err
	}
	return queueURLResponse{QueueURL: url}, nil
}

func (h *handler) listQueues(ctx context.Context, m *members) (any, error) {
	prefix := m.String("QueueNamePrefix")
	maxResults := m.optInt("MaxResults", 1, maxListResults)
	token := m.String("NextToken")
	if err := m.Done(); err != nil {
		return nil, err
	}
	urls, err := h.b.ListQueues(ctx, prefix)
	if err != nil {
		return nil, err
	}
	start := 0
	if token != "" {
		if maxResults == nil {
			return nil, badRequest(CodeInvalidParameterValue, "ListQueues: NextToken is only valid with MaxResults")
		}
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, badRequest(CodeInvalidParameterValue, "ListQueues: NextToken %q is not one a ListQueues response gave", token)
		}
		start = min(n, len(urls))
	}
	end := min(start+maxListResults, len(urls))
	var next string
	if maxResults != nil {
		end = min(start+*maxResults, len(urls))
		if end < len(urls) {
			next = strconv.Itoa(end)
		}
	}
	return listQueuesResponse{QueueURLs: urls[start:end], NextToken: next}, nil
}

func (h *handler) getQueueAttributes(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	names := m.Strings("AttributeNames")
	if err := m.Done(); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		switch {
		case n == "All":
			for _, a := range readableQueueAttributes {
				want[a] = true
			}
		case slices.Contains(readableQueueAttributes, n):
			want[n] = true
		case slices.Contains(otherQueueAttributes, n):
		default:
			return nil, badRequest(CodeInvalidAttributeName, "GetQueueAttributes: unknown attribute name %s", n)
		}
	}
	info, err := h.b.DescribeQueue(ctx, url)
	if err != nil {
		return nil, err
	}
	c := info.Config
	all := map[string]string{
		attrQueueARN:               info.ARN,
		attrNumberOfMessages:       strconv.Itoa(info.Visible),
		attrNumberNotVisible:       strconv.Itoa(info.InFlight),
		attrNumberDelayed:          strconv.Itoa(info.Delayed),
		attrVisibilityTimeout:      strconv.Itoa(int(c.VisibilityTimeout / time.Second)),
		attrDelaySeconds:           strconv.Itoa(c.DelaySeconds),
		attrMessageRetentionPeriod: strconv.Itoa(int(c.MessageRetention / time.Second)),
		attrMaximumMessageSize:     strconv.Itoa(c.MaximumMessageSize),
		attrReceiveWaitTime:        strconv.Itoa(int(c.ReceiveMessageWaitTime / time.Second)),
	}
	if c.DeadLetterURL != "" {
		dlq, err := h.b.DescribeQueue(ctx, c.DeadLetterURL)
		if err != nil {
			return nil, fmt.Errorf("describing dead-letter queue %s of %s: %w", c.DeadLetterURL, url, err)
		}
		p, _ := json.Marshal(struct {
			DeadLetterTargetARN string `json:"deadLetterTargetArn"`
			MaxReceiveCount     int    `json:"maxReceiveCount"`
		}{dlq.ARN, c.MaxReceiveCount})
		all[attrRedrivePolicy] = string(p)
	}
	out := map[string]string{}
	for n := range want {
		if v, ok := all[n]; ok {
			out[n] = v
		}
	}
	return attributesResponse{Attributes: out}, nil
}

func (h *handler) deleteQueue(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	if err := m.Done(); err != nil {
		return nil, err
	}
	return empty{}, h.b.DeleteQueue(ctx, url)
}

func (h *handler) purgeQueue(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	if err := m.Done(); err != nil {
		return nil, err
	}
	return empty{}, h.b.PurgeQueue(ctx, url)
}

// messageAttributes converts wire message attributes.
func messageAttributes(in map[string]wireAttribute) (map[string]Attribute, *apiError) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]Attribute, len(in))
	for name, a := range in {
		if a.StringListValues != nil || a.BinaryListValues != nil {
			return nil, badRequest(CodeUnsupportedOperation, "message attribute %s: StringListValues and BinaryListValues are not supported (nor are they by SQS)", name)
		}
		v := Attribute{DataType: a.DataType, BinaryValue: a.BinaryValue}
		if a.StringValue != nil {
			v.StringValue = *a.StringValue
		}
		out[name] = v
	}
	return out, nil
}

// traceHeader reads MessageSystemAttributes, whose one member is
// AWSTraceHeader; it returns the header and the attributes' digest.
func traceHeader(in map[string]wireAttribute) (string, string, *apiError) {
	for name, a := range in {
		if name != "AWSTraceHeader" {
			return "", "", badRequest(CodeInvalidParameterValue, "message system attribute %s is not supported: AWSTraceHeader is the only one", name)
		}
		if a.DataType != "String" || a.StringValue == nil || *a.StringValue == "" {
			return "", "", badRequest(CodeInvalidParameterValue, "message system attribute AWSTraceHeader must have DataType String and a non-empty StringValue")
		}
	}
	a, ok := in["AWSTraceHeader"]
	if !ok {
		return "", "", nil
	}
	digest := md5OfAttributes(map[string]Attribute{"AWSTraceHeader": {DataType: "String", StringValue: *a.StringValue}})
	return *a.StringValue, digest, nil
}

// sendParams checks one message of SendMessage or SendMessageBatch.
func sendParams(url string, e sendEntry) (SendParams, string, *apiError) {
	if e.MessageDeduplicationID != nil || e.MessageGroupID != nil {
		return SendParams{}, "", badRequest(CodeUnsupportedOperation, "MessageDeduplicationId and MessageGroupId are not supported: %s", fifoOnly)
	}
	if e.MessageBody == nil {
		return SendParams{}, "", badRequest(CodeMissingParameter, "the message has no MessageBody")
	}
	if d := e.DelaySeconds; d != nil && (*d < 0 || *d > maxDelaySeconds) {
		return SendParams{}, "", badRequest(CodeInvalidParameterValue, "DelaySeconds %d is not between 0 and %d", *d, maxDelaySeconds)
	}
	attrs, aerr := messageAttributes(e.MessageAttributes)
	if aerr != nil {
		return SendParams{}, "", aerr
	}
	trace, sysDigest, aerr := traceHeader(e.MessageSystemAttributes)
	if aerr != nil {
		return SendParams{}, "", aerr
	}
	return SendParams{QueueURL: url, Body: *e.MessageBody, Attributes: attrs, TraceHeader: trace, DelaySeconds: e.DelaySeconds}, sysDigest, nil
}

func (h *handler) sendMessage(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	var e sendEntry
	if v := m.Value("MessageBody"); v != nil {
		e.MessageBody = new(string)
		m.Decode("MessageBody", v, e.MessageBody, "a string")
	}
	e.DelaySeconds = m.optInt("DelaySeconds", 0, maxDelaySeconds)
	m.Object("MessageAttributes", &e.MessageAttributes, "a map of message attribute values")
	m.Object("MessageSystemAttributes", &e.MessageSystemAttributes, "a map of message system attribute values")
	m.unsupported(fifoOnly, "MessageDeduplicationId", "MessageGroupId")
	if err := m.Done(); err != nil {
		return nil, err
	}
	p, sysDigest, aerr := sendParams(url, e)
	if aerr != nil {
		return nil, aerr
	}
	res, err := h.b.Send(ctx, p)
	if err != nil {
		return nil, err
	}
	return sendMessageResponse{MessageID: res.MessageID, MD5OfMessageBody: res.MD5OfBody,
		MD5OfMessageAttributes: res.MD5OfAttributes, MD5OfMessageSystemAttributes: sysDigest}, nil
}

// checkEntryIDs checks a batch's entries as SQS does: 1 to 10, each id
// 1 to 80 letters, digits, hyphens and underscores, and distinct.
func checkEntryIDs(action string, ids []string) error {
	switch {
	case len(ids) == 0:
		return badRequest(CodeEmptyBatchRequest, "%s request has no entries", action)
	case len(ids) > maxBatchEntries:
		return badRequest(CodeTooManyEntriesInBatchRequest, "%s request has %d entries, more than %d", action, len(ids), maxBatchEntries)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !validEntryID(id) {
			return badRequest(CodeInvalidBatchEntryID, "%s entry id %q must be 1 to 80 letters, digits, hyphens and underscores", action, id)
		}
		if seen[id] {
			return badRequest(CodeBatchEntryIdsNotDistinct, "%s entry id %q is used twice", action, id)
		}
		seen[id] = true
	}
	return nil
}

func validEntryID(id string) bool {
	if id == "" || len(id) > 80 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// entryFailure is a batch entry's failure, or the error of the whole
// request when err is not the caller's.
func entryFailure(id string, err error) (batchFailure, error) {
	var (
		e  *Error
		ae *apiError
	)
	switch {
	case errors.As(err, &e):
		return batchFailure{ID: id, SenderFault: true, Code: e.Code, Message: e.Message}, nil
	case errors.As(err, &ae):
		return batchFailure{ID: id, SenderFault: true, Code: ae.Code, Message: ae.Message}, nil
	}
	return batchFailure{}, err
}

func (h *handler) sendMessageBatch(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	var entries []sendEntry
	m.Object("Entries", &entries, "a list of SendMessageBatchRequestEntry")
	if err := m.Done(); err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	size := 0
	for i, e := range entries {
		ids[i] = e.ID
		if e.MessageBody != nil {
			size += len(*e.MessageBody)
		}
		for name, a := range e.MessageAttributes {
			size += len(name) + len(a.DataType) + len(a.BinaryValue)
			if a.StringValue != nil {
				size += len(*a.StringValue)
			}
		}
	}
	if err := checkEntryIDs("SendMessageBatch", ids); err != nil {
		return nil, err
	}
	if size > maxBatchBytes {
		return nil, badRequest(CodeBatchRequestTooLong, "SendMessageBatch messages are %d bytes together, more than %d", size, maxBatchBytes)
	}
	out := sendBatchResponse{Successful: []sendBatchResultEntry{}, Failed: []batchFailure{}}
	for _, e := range entries {
		p, sysDigest, aerr := sendParams(url, e)
		var (
			res SendResult
			err error
		)
		if aerr != nil {
			err = aerr
		} else {
			res, err = h.b.Send(ctx, p)
		}
		if err != nil {
			var e2 *Error
			if errors.As(err, &e2) && e2.Code == CodeQueueDoesNotExist {
				return nil, err // the whole request is wrong, not one entry
			}
			f, err := entryFailure(e.ID, err)
			if err != nil {
				return nil, err
			}
			out.Failed = append(out.Failed, f)
			continue
		}
		out.Successful = append(out.Successful, sendBatchResultEntry{ID: e.ID, sendMessageResponse: sendMessageResponse{
			MessageID: res.MessageID, MD5OfMessageBody: res.MD5OfBody,
			MD5OfMessageAttributes: res.MD5OfAttributes, MD5OfMessageSystemAttributes: sysDigest,
		}})
	}
	return out, nil
}

func (h *handler) receiveMessage(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	maxN := m.optInt("MaxNumberOfMessages", 1, maxBatchEntries)
	visibility := m.optInt("VisibilityTimeout", 0, maxVisibilitySecs)
	wait := m.optInt("WaitTimeSeconds", 0, maxWaitTimeSeconds)
	sysNames := append(m.Strings("AttributeNames"), m.Strings("MessageSystemAttributeNames")...)
	attrNames := m.Strings("MessageAttributeNames")
	m.Ignore("ReceiveRequestAttemptId") // FIFO only; SQS ignores it on standard queues
	if err := m.Done(); err != nil {
		return nil, err
	}
	for _, n := range sysNames {
		if n != "All" && !slices.Contains(systemAttributes, n) {
			return nil, badRequest(CodeInvalidAttributeName, "ReceiveMessage: unknown message system attribute name %s", n)
		}
	}
	for _, n := range attrNames {
		if n == "" || len(n) > 256 {
			return nil, badRequest(CodeInvalidAttributeName, "ReceiveMessage: message attribute name %q must be 1 to 256 characters long", n)
		}
	}
	p := ReceiveParams{QueueURL: url, Max: 1}
	if maxN != nil {
		p.Max = *maxN
	}
	if visibility != nil {
		d := time.Duration(*visibility) * time.Second
		p.VisibilityTimeout = &d
	}
	if wait != nil {
		p.Wait = time.Duration(*wait) * time.Second
	} else {
		info, err := h.b.DescribeQueue(ctx, url)
		if err != nil {
			return nil, err
		}
		p.Wait = info.Config.ReceiveMessageWaitTime
	}
	msgs, err := h.b.Receive(ctx, p)
	if err != nil {
		return nil, err
	}
	out := receiveResponse{}
	for _, msg := range msgs {
		out.Messages = append(out.Messages, wireMessageOf(msg, sysNames, attrNames))
	}
	return out, nil
}

// wireMessageOf is a received message with the system attributes and
// message attributes the receive asked for, and the digest of those.
func wireMessageOf(msg Message, sysNames, attrNames []string) wireMessage {
	w := wireMessage{MessageID: msg.ID, ReceiptHandle: msg.ReceiptHandle, MD5OfBody: msg.MD5OfBody, Body: msg.Body}
	for name, v := range msg.SystemAttributes {
		if slices.Contains(sysNames, "All") || slices.Contains(sysNames, name) {
			if w.Attributes == nil {
				w.Attributes = map[string]string{}
			}
			w.Attributes[name] = v
		}
	}
	picked := map[string]Attribute{}
	for name, a := range msg.Attributes {
		if attributeSelected(name, attrNames) {
			picked[name] = a
		}
	}
	if len(picked) == 0 {
		return w
	}
	w.MessageAttributes = make(map[string]wireAttribute, len(picked))
	for name, a := range picked {
		wa := wireAttribute{DataType: a.DataType}
		if strings.HasPrefix(a.DataType, "Binary") {
			wa.BinaryValue = a.BinaryValue
		} else {
			wa.StringValue = &a.StringValue
		}
		w.MessageAttributes[name] = wa
	}
	if len(picked) == len(msg.Attributes) && msg.MD5OfAttributes != "" {
		w.MD5OfMessageAttributes = msg.MD5OfAttributes
	} else {
		w.MD5OfMessageAttributes = md5OfAttributes(picked)
	}
	return w
}

// attributeSelected reports whether MessageAttributeNames select name:
// "All" or ".*" select every attribute, "prefix.*" those starting with
// "prefix.", any other entry the attribute of that name.
func attributeSelected(name string, selectors []string) bool {
	for _, s := range selectors {
		switch {
		case s == "All" || s == ".*":
			return true
		case strings.HasSuffix(s, ".*") && strings.HasPrefix(name, strings.TrimSuffix(s, "*")):
			return true
		case s == name:
			return true
		}
	}
	return false
}

func (h *handler) deleteMessage(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	handle := m.required("ReceiptHandle")
	if err := m.Done(); err != nil {
		return nil, err
	}
	return empty{}, h.b.DeleteMessage(ctx, url, handle)
}

func (h *handler) changeMessageVisibility(ctx context.Context, m *members) (any, error) {
	url := m.required("QueueUrl")
	handle := m.required("ReceiptHandle")
	timeout := m.optInt("VisibilityTimeout", 0, maxVisibilitySecs)
	if timeout == nil && !m.Failed() {
		m.Fail(badRequest(CodeMissingParameter, "ChangeMessageVisibility request is missing the required member VisibilityTimeout"))
	}
	if err := m.Done(); err != nil {
		return nil, err
	}
	return empty{}, h.b.ChangeVisibility(ctx, url, handle, time.Duration(*timeout)*time.Second)
}

// handleBatch runs one operation per entry of DeleteMessageBatch or
// ChangeMessageVisibilityBatch.
func (h *handler) handleBatch(ctx context.Context, m *members, run func(url string, e handleEntry) error) (any, error) {
	url := m.required("QueueUrl")
	var entries []handleEntry
	m.Object("Entries", &entries, "a list of batch request entries")
	if err := m.Done(); err != nil {
		return nil, err
	}
	ids := make([]string, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	if err := checkEntryIDs(m.Op(), ids); err != nil {
		return nil, err
	}
	out := batchResponse{Successful: []idEntry{}, Failed: []batchFailure{}}
	for _, e := range entries {
		var err error
		if e.ReceiptHandle == "" {
			err = badRequest(CodeMissingParameter, "entry %s has no ReceiptHandle", e.ID)
		} else {
			err = run(url, e)
		}
		if err != nil {
			var e2 *Error
			if errors.As(err, &e2) && e2.Code == CodeQueueDoesNotExist {
				return nil, err
			}
			f, err := entryFailure(e.ID, err)
			if err != nil {
				return nil, err
			}
			out.Failed = append(out.Failed, f)
			continue
		}
		out.Successful = append(out.Successful, idEntry{ID: e.ID})
	}
	return out, nil
}

func (h *handler) deleteMessageBatch(ctx context.Context, m *members) (any, error) {
	return h.handleBatch(ctx, m, func(url string, e handleEntry) error {
		return h.b.DeleteMessage(ctx, url, e.ReceiptHandle)
	})
}

func (h *handler) changeMessageVisibilityBatch(ctx context.Context, m *members) (any, error) {
	return h.handleBatch(ctx, m, func(url string, e handleEntry) error {
		if e.VisibilityTimeout == nil {
			return badRequest(CodeMissingParameter, "entry %s has no VisibilityTimeout", e.ID)
		}
		if v := *e.VisibilityTimeout; v < 0 || v > maxVisibilitySecs {
			return badRequest(CodeInvalidParameterValue, "entry %s: VisibilityTimeout %d is not between 0 and %d", e.ID, v, maxVisibilitySecs)
		}
		return h.b.ChangeVisibility(ctx, url, e.ReceiptHandle, time.Duration(*e.VisibilityTimeout)*time.Second)
	})
}
