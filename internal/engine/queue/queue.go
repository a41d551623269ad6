// Package queue is the local engine's step dispatch: an in-process message
// broker with the semantics of Amazon SQS standard queues (visibility
// timeout, receive count, delivery delay, retention, dead-letter queue)
// and Lambda-style event source mappings that feed queued messages to
// handlers in batches, honouring partial batch failures.
//
// The engine's sqs:sendMessage task resources call Broker.SendMessage;
// step workers are the same handlers that run in Lambda behind an SQS
// event source, subscribed with Broker.Subscribe. See doc.go for where the
// broker knowingly differs from the services it imitates.
package queue

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/aiflow/aiflow/internal/clock"
	"github.com/aiflow/aiflow/internal/sfn"
)

// Limits of Amazon SQS that the broker enforces.
const (
	// DefaultMaximumMessageSize is the largest message (body plus
	// attribute names, types and values) a queue takes by default: 256 KiB,
	// the Step Functions payload limit.
	DefaultMaximumMessageSize = 262_144
	// MaxMaximumMessageSize is the largest MaximumMessageSize SQS allows.
	MaxMaximumMessageSize = 1_048_576
	// MaxDelaySeconds is the longest delivery delay, 15 minutes.
	MaxDelaySeconds = 900
	// MaxVisibilityTimeout is the longest visibility timeout, 12 hours.
	MaxVisibilityTimeout = 12 * time.Hour
	// MaxReceiveMessages is the most messages one ReceiveMessage returns.
	MaxReceiveMessages = 10
	// MaxWaitTime is the longest ReceiveMessage long poll.
	MaxWaitTime = 20 * time.Second
	// MaxMessageAttributes is the most message attributes a message has.
	MaxMessageAttributes = 10
)

// Config configures a Broker.
type Config struct {
	// Clock is the time of visibility timeouts, delays, retention, batching
	// windows and function timeouts; a system clock in production.
	// Nil means the system's, its timers kept in a clock.Heap.
	Clock clock.Clock
	// Region is the queues' region, "us-east-1" when empty.
	Region string
	// AccountID is the queues' account, "123456789012" when empty.
	AccountID string
	// SenderID is the SenderId attribute of every message; AccountID when
	// empty.
	SenderID string
	// NewIDFunc makes message ids, receipt handles and request ids; nil
	// means random UUIDv4 from crypto/rand.
	NewIDFunc func() string
	// Logger logs handler failures and messages moved to dead-letter
	// queues; nil discards.
	Logger *slog.Logger
}

// QueueConfig configures one queue.
type QueueConfig struct {
	// Name is the queue's name: 1 to 80 letters, digits, hyphens and
	// underscores. The queue's ARN is arn:aws:sqs:<region>:<account>:<name>.
	Name string
	// URL is the queue's URL, as the state machines name it (for example
	// https://sqs.us-east-1.amazonaws.com/123456789012/ai-steps); empty
	// means http://sqs.<region>.localhost/<account>/<name>.
	URL string
	// VisibilityTimeout is how long a received message stays invisible;
	// 0 means 30 s, at most 12 h.
	VisibilityTimeout time.Duration
	// DelaySeconds delays the first delivery of messages sent without a
	// delay of their own; 0 to 900.
	DelaySeconds int
	// MessageRetention is how long a message is kept after it was sent;
	// 0 means 4 days, from 60 s to 14 days. Expired messages are dropped.
	MessageRetention time.Duration
	// MaximumMessageSize is the largest message in bytes; 0 means
	// DefaultMaximumMessageSize, from 1,024 to MaxMaximumMessageSize.
	MaximumMessageSize int
	// ReceiveMessageWaitTime is the long poll of receives through the SQS
	// API that do not say how long to wait; 0 to 20 s. The broker only
	// keeps it: Receive always takes its wait from its caller.
	ReceiveMessageWaitTime time.Duration
	// MaxReceiveCount is, with DeadLetterURL, how many times a message may
	// be received: when a message received that many times becomes visible
	// again it moves to the dead-letter queue instead. 1 to 1000.
	MaxReceiveCount int
	// DeadLetterURL is the URL of the dead-letter queue, an existing queue
	// other than this one.
	DeadLetterURL string
}

// Stats counts a queue's messages.
type Stats struct {
	// Visible, InFlight and Delayed count the messages now in each state.
	Visible, InFlight, Delayed int
	// DeadLettered counts messages moved from this queue to its
	// dead-letter queue, Sent messages sent to it (not those moved in from
	// another queue), Deleted messages deleted from it, and Expired
	// messages dropped at the end of their retention period.
	DeadLettered, Sent, Deleted, Expired int64
}

// Broker holds queues and event source mappings. It is safe for
// concurrent use; Close stops it.
type Broker struct {
	clock     clock.Clock
	region    string
	accountID string
	senderID  string
	newID     func() string
	log       *slog.Logger

	mu       sync.Mutex
	queues   map[string]*queue // by URL
	names    map[string]*queue // by name
	mappings map[*mapping]struct{}
	closed   bool
	done     chan struct{} // closed by Close
	// handlers is the context of every handler's invocation; Shutdown
	// cancels it when its own context ends first. No caller's context outlives New, so it stems from
	// context.Background.
	handlers     context.Context
	stopHandlers context.CancelFunc
	// epoch grows whenever a message becomes visible or is received
	// (see Quiet).
	epoch uint64
}

var _ sfn.QueueSender = (*Broker)(nil)

// New returns a broker without queues.
func New(cfg Config) *Broker {
	b := &Broker{
		clock:     cfg.Clock,
		region:    cfg.Region,
		accountID: cfg.AccountID,
		senderID:  cfg.SenderID,
		newID:     cfg.NewIDFunc,
		log:       cfg.Logger,
		queues:    map[string]*queue{},
		names:     map[string]*queue{},
		mappings:  map[*mapping]struct{}{},
		done:      make(chan struct{}),
	}
	b.handlers, b.stopHandlers = context.WithCancel(context.Background())
	if b.clock == nil {
		b.clock = clock.NewHeap()
	}
	if b.region == "" {
		b.region = "us-east-1"
	}
	if b.accountID == "" {
		b.accountID = "123456789012"
	}
	if b.senderID == "" {
		b.senderID = b.accountID
	}
	if b.newID == nil {
		b.newID = uuid.NewString
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.watchedBy(b.clock)
	return b
}

type state uint8

const (
	stateDelayed state = iota + 1
	stateVisible
	stateInFlight
	stateGone // deleted, expired or moved away; a tombstone in the visible list
)

// message is one message of one queue.
type message struct {
	q            *queue
	id           string
	body         string
	md5Body      string
	md5Attrs     string
	attrs        map[string]Attribute
	trace        string
	sent         time.Time
	firstReceive time.Time
	receiveCount int
	state        state
	// handle is the receipt handle of the latest receive, "" before one.
	handle string
	// stopTimer cancels the pending delay or visibility timer; gen
	// numbers timers so that a timer that fires after it was replaced
	// does nothing.
	stopTimer func() bool
	gen       uint64
	// parked is set while the message is in flight after its mapping's
	// handler failed it (see Quiet).
	parked bool
}

// queue is one queue; the Broker's mu guards it.
type queue struct {
	cfg QueueConfig // defaults filled in
	arn string
	dlq *queue

	// visible holds the visible messages in delivery order from head on,
	// and tombstones (stateGone) of those deleted while visible.
	visible []*message
	head    int

	nVisible, nInFlight, nDelayed int
	nParked                       int // in flight, failed by a handler (see Quiet)
	stats                         Stats

	handles map[string]*message // latest receipt handle -> message
	delayed map[*message]struct{}

	// notify is closed, and replaced, when messages become visible while
	// someone waits on it.
	notify  chan struct{}
	waiting bool
}

// CreateQueue creates a queue and returns its URL. Creating a queue again
// with the same configuration returns the same URL; a different
// configuration for the same URL or name is an *Error with code
// QueueNameExists. Invalid settings are an *Error with code
// InvalidParameterValue or InvalidAttributeValue naming the setting.
func (b *Broker) CreateQueue(c QueueConfig) (url string, err error) {
	if err := validateName(c.Name); err != nil {
		return "", err
	}
	if c.URL == "" {
		c.URL = "http://sqs." + b.region + ".localhost/" + b.accountID + "/" + c.Name
	}
	if err := fillQueueConfig(&c); err != nil {
		return "", err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", ErrClosed
	}
	if q, ok := b.queues[c.URL]; ok {
		if q.cfg != c {
			return "", newError(CodeQueueNameExists, fmt.Sprintf("queue %s already exists with a different configuration", c.URL))
		}
		return c.URL, nil
	}
	if q, ok := b.names[c.Name]; ok {
		return "", newError(CodeQueueNameExists, fmt.Sprintf("queue name %q is already used by queue %s", c.Name, q.cfg.URL))
	}
	q := &queue{
		cfg:     c,
		arn:     "arn:aws:sqs:" + b.region + ":" + b.accountID + ":" + c.Name,
		handles: map[string]*message{},
		delayed: map[*message]struct{}{},
		notify:  make(chan struct{}),
	}
	if c.DeadLetterURL != "" {
		if c.DeadLetterURL == c.URL {
			return "", newError(CodeInvalidParameterValue, fmt.Sprintf("queue %s: DeadLetterURL names the queue itself", c.URL))
		}
		dlq, ok := b.queues[c.DeadLetterURL]
		if !ok {
			return "", newError(CodeInvalidParameterValue, fmt.Sprintf("queue %s: dead-letter queue %s does not exist", c.URL, c.DeadLetterURL))
		}
		q.dlq = dlq
	}
	b.queues[c.URL] = q
	b.names[c.Name] = q
	return c.URL, nil
}

func validateName(name string) error {
	if name == "" || len(name) > 80 {
		return newError(CodeInvalidParameterValue, fmt.Sprintf("queue name %q must be 1 to 80 characters long", name))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return newError(CodeInvalidParameterValue, fmt.Sprintf("queue name %q may only hold letters, digits, hyphens and underscores (FIFO queues are not supported)", name))
		}
	}
	return nil
}

func fillQueueConfig(c *QueueConfig) error {
	bad := func(format string, args ...any) error {
		return newError(CodeInvalidAttributeValue, fmt.Sprintf("queue %s: ", c.Name)+fmt.Sprintf(format, args...))
	}
	if c.VisibilityTimeout == 0 {
		c.VisibilityTimeout = 30 * time.Second
	}
	if c.VisibilityTimeout < 0 || c.VisibilityTimeout > MaxVisibilityTimeout {
		return bad("VisibilityTimeout %s is not between 0 and 12h", c.VisibilityTimeout)
	}
	if c.DelaySeconds < 0 || c.DelaySeconds > MaxDelaySeconds {
		return bad("DelaySeconds %d is not between 0 and 900", c.DelaySeconds)
	}
	if c.MessageRetention == 0 {
		c.MessageRetention = 4 * 24 * time.Hour
	}
	if c.MessageRetention < time.Minute || c.MessageRetention > 14*24*time.Hour {
		return bad("MessageRetention %s is not between 1m and 14 days", c.MessageRetention)
	}
	if c.MaximumMessageSize == 0 {
		c.MaximumMessageSize = DefaultMaximumMessageSize
	}
	if c.MaximumMessageSize < 1024 || c.MaximumMessageSize > MaxMaximumMessageSize {
		return bad("MaximumMessageSize %d is not between 1024 and %d", c.MaximumMessageSize, MaxMaximumMessageSize)
	}
	if c.ReceiveMessageWaitTime < 0 || c.ReceiveMessageWaitTime > MaxWaitTime {
		return bad("ReceiveMessageWaitTime %s is not between 0 and 20s", c.ReceiveMessageWaitTime)
	}
	switch {
	case c.DeadLetterURL == "" && c.MaxReceiveCount != 0:
		return bad("MaxReceiveCount is set without a DeadLetterURL")
	case c.DeadLetterURL != "" && (c.MaxReceiveCount < 1 || c.MaxReceiveCount > 1000):
		return bad("MaxReceiveCount %d is not between 1 and 1000", c.MaxReceiveCount)
	}
	return nil
}

// queueLocked returns the queue at url, or an *Error with code
// QueueDoesNotExist.
func (b *Broker) queueLocked(url string) (*queue, error) {
	if b.closed {
		return nil, ErrClosed
	}
	q, ok := b.queues[url]
	if !ok {
		return nil, newError(CodeQueueDoesNotExist, fmt.Sprintf("queue %s does not exist", url))
	}
	return q, nil
}

// SendMessage puts a message on the queue at p.QueueURL and returns its
// id; it implements sfn.QueueSender. A DelaySeconds of 0 takes the
// queue's delay; the attributes are String attributes. Errors are as for
// Send.
func (b *Broker) SendMessage(ctx context.Context, p sfn.SendMessageParams) (messageID string, err error) {
	messageID, _, err = b.SendMessageDigest(ctx, p)
	return messageID, err
}

// SendMessageDigest is SendMessage, and it returns the hex MD5 of the
// body too, which the broker computes for the message anyway: the engine
// gives it as the task's MD5OfMessageBody without computing it again.
func (b *Broker) SendMessageDigest(ctx context.Context, p sfn.SendMessageParams) (messageID, md5OfBody string, err error) {
	sp := SendParams{QueueURL: p.QueueURL, Body: p.Body, TraceHeader: p.TraceHeader}
	if p.DelaySeconds != 0 {
		sp.DelaySeconds = &p.DelaySeconds
	}
	if len(p.Attributes) > 0 {
		sp.Attributes = make(map[string]Attribute, len(p.Attributes))
		for k, v := range p.Attributes {
			sp.Attributes[k] = Attribute{DataType: "String", StringValue: v}
		}
	}
	res, err := b.Send(ctx, sp)
	return res.MessageID, res.MD5OfBody, err
}

// Attribute is a message attribute: a DataType of String, Number or
// Binary, optionally followed by a period and a custom type label
// ("Number.int"), and the value in StringValue (String and Number) or
// BinaryValue (Binary).
type Attribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// SendParams is one message for Send.
type SendParams struct {
	QueueURL string
	Body     string
	// Attributes are the message attributes, at most MaxMessageAttributes.
	Attributes map[string]Attribute
	// TraceHeader becomes the message's AWSTraceHeader system attribute.
	TraceHeader string
	// DelaySeconds delays the message's first delivery, 0 to 900; nil
	// takes the queue's delay.
	DelaySeconds *int
}

// SendResult is what Send returns of a message it queued: its id and the
// digests SQS returns, which clients check against what they sent.
type SendResult struct {
	MessageID string
	// MD5OfBody is the hex MD5 of the body; MD5OfAttributes the digest of
	// the message attributes as SQS computes it, empty without attributes.
	MD5OfBody, MD5OfAttributes string
}

// Send puts a message on the queue at p.QueueURL. Errors are *Error:
// QueueDoesNotExist for an unknown URL, MissingParameter for an empty
// body, InvalidMessageContents for characters SQS does not allow,
// InvalidParameterValue for a message over the queue's size limit, a
// delay out of range or a bad attribute; or ErrClosed, or the context's
// error.
func (b *Broker) Send(ctx context.Context, p SendParams) (SendResult, error) {
	if err := ctx.Err(); err != nil {
		return SendResult{}, fmt.Errorf("sending message to %s: %w", p.QueueURL, err)
	}
	if p.Body == "" {
		return SendResult{}, newError(CodeMissingParameter, fmt.Sprintf("message to %s: the body is empty; it must be at least one character", p.QueueURL))
	}
	if err := validateBody(p.QueueURL, p.Body); err != nil {
		return SendResult{}, err
	}
	if p.DelaySeconds != nil && (*p.DelaySeconds < 0 || *p.DelaySeconds > MaxDelaySeconds) {
		return SendResult{}, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: DelaySeconds %d is not between 0 and 900", p.QueueURL, *p.DelaySeconds))
	}
	size, err := validateAttributes(p.QueueURL, p.Attributes)
	if err != nil {
		return SendResult{}, err
	}
	size += len(p.Body)
	m := &message{
		body:  p.Body,
		trace: p.TraceHeader,
	}
	sum := md5.Sum([]byte(p.Body))
	m.md5Body = hex.EncodeToString(sum[:])
	if len(p.Attributes) > 0 {
		m.attrs = make(map[string]Attribute, len(p.Attributes))
		for k, v := range p.Attributes {
			v.BinaryValue = append([]byte(nil), v.BinaryValue...)
			m.attrs[k] = v
		}
		m.md5Attrs = md5OfAttributes(m.attrs)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(p.QueueURL)
	if err != nil {
		return SendResult{}, err
	}
	if size > q.cfg.MaximumMessageSize {
		return SendResult{}, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: it is %d bytes long (body and attributes) and must be at most %d", p.QueueURL, size, q.cfg.MaximumMessageSize))
	}
	m.q = q
	m.id = b.newID()
	m.sent = b.clock.Now()
	q.stats.Sent++
	delay := q.cfg.DelaySeconds
	if p.DelaySeconds != nil {
		delay = *p.DelaySeconds
	}
	if delay > 0 {
		b.setState(m, stateDelayed)
		q.delayed[m] = struct{}{}
		b.arm(m, time.Duration(delay)*time.Second, b.delayEnded)
	} else {
		b.pushVisible(m)
	}
	return SendResult{MessageID: m.id, MD5OfBody: m.md5Body, MD5OfAttributes: m.md5Attrs}, nil
}

// validateBody checks a body's characters against those SQS allows:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validateBody(url, body string) error {
	for i, r := range body {
		ok := r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
		if r == utf8.RuneError {
			_, n := utf8.DecodeRuneInString(body[i:])
			ok = n == 3 // a real U+FFFD, not an invalid byte
		}
		if !ok {
			return newError(CodeInvalidMessageContents, fmt.Sprintf("message to %s: the body holds character %U at byte %d, outside the set SQS allows", url, r, i))
		}
	}
	return nil
}

// validateAttributes checks message attribute names and values as SQS
// does and returns the bytes they count towards the message size.
func validateAttributes(url string, attrs map[string]Attribute) (int, error) {
	if len(attrs) > MaxMessageAttributes {
		return 0, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: it has %d message attributes, more than %d", url, len(attrs), MaxMessageAttributes))
	}
	size := 0
	for name, v := range attrs {
		if err := validateAttributeName(name); err != "" {
			return 0, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: message attribute name %q %s", url, name, err))
		}
		if err := validateAttribute(v); err != "" {
			return 0, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: message attribute %q %s", url, name, err))
		}
		if err := validateBody(url, v.StringValue); err != nil {
			return 0, newError(CodeInvalidParameterValue, fmt.Sprintf("message to %s: message attribute %q holds characters SQS does not allow", url, name))
		}
		size += len(name) + len(v.DataType) + len(v.StringValue) + len(v.BinaryValue)
	}
	return size, nil
}

// validateAttribute checks an attribute's type and value; it returns
// what is wrong, or "".
func validateAttribute(a Attribute) string {
	base, label, custom := strings.Cut(a.DataType, ".")
	switch {
	case custom && (label == "" || len(a.DataType) > 256):
		return fmt.Sprintf("has DataType %q, whose custom type label must be 1 to 256 characters long", a.DataType)
	case base == "String" || base == "Number":
		if a.StringValue == "" {
			return fmt.Sprintf("of DataType %s must have a non-empty StringValue", a.DataType)
		}
		if a.BinaryValue != nil {
			return fmt.Sprintf("of DataType %s must not have a BinaryValue", a.DataType)
		}
		if base == "Number" {
			if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
				return fmt.Sprintf("of DataType %s has StringValue %q, which is not a number", a.DataType, a.StringValue)
			}
		}
	case base == "Binary":
		if len(a.BinaryValue) == 0 {
			return fmt.Sprintf("of DataType %s must have a non-empty BinaryValue", a.DataType)
		}
		if a.StringValue != "" {
			return fmt.Sprintf("of DataType %s must not have a StringValue", a.DataType)
		}
	default:
		return fmt.Sprintf("has DataType %q; it must be String, Number or Binary, optionally followed by a period and a custom type label", a.DataType)
	}
	return ""
}

func validateAttributeName(name string) string {
	if name == "" || len(name) > 256 {
		return "must be 1 to 256 characters long"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "may only hold letters, digits, hyphens, underscores and periods"
		}
	}
	switch {
	case name[0] == '.' || name[len(name)-1] == '.':
		return "must not start or end with a period"
	case containsDotDot(name):
		return "must not hold two periods in a row"
	case hasPrefixFold(name, "aws.") || hasPrefixFold(name, "amazon."):
		return "must not start with AWS. or Amazon., which are reserved"
	}
	return ""
}

func containsDotDot(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == '.' && s[i-1] == '.' {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// setState moves m to state s and keeps its queue's counters.
func (b *Broker) setState(m *message, s state) {
	q := m.q
	if m.parked {
		m.parked = false
		q.nParked--
	}
	if s == stateVisible || s == stateInFlight {
		b.epoch++
	}
	switch m.state {
	case stateDelayed:
		q.nDelayed--
	case stateVisible:
		q.nVisible--
	case stateInFlight:
		q.nInFlight--
	}
	switch s {
	case stateDelayed:
		q.nDelayed++
	case stateVisible:
		q.nVisible++
	case stateInFlight:
		q.nInFlight++
	}
	m.state = s
}

// arm starts m's timer, replacing any pending one; fire runs with the
// Broker's mu held, unless the timer was replaced or the broker closed.
func (b *Broker) arm(m *message, d time.Duration, fire func(*message)) {
	b.disarm(m)
	m.gen++
	gen := m.gen
	m.stopTimer = b.clock.AfterFunc(d, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed || m.gen != gen {
			return
		}
		m.stopTimer = nil
		fire(m)
	})
}

func (b *Broker) disarm(m *message) {
	if m.stopTimer != nil {
		m.stopTimer()
		m.stopTimer = nil
	}
	m.gen++
}

func (b *Broker) delayEnded(m *message) {
	delete(m.q.delayed, m)
	if b.expired(m) {
		b.drop(m)
		return
	}
	b.pushVisible(m)
}

func (b *Broker) visibilityEnded(m *message) {
	if m.state == stateInFlight {
		b.returnMessage(m)
	}
}

// returnMessage makes an in-flight message visible again, or moves it to
// the dead-letter queue when it has been received MaxReceiveCount times,
// or drops it when its retention period is over.
func (b *Broker) returnMessage(m *message) {
	q := m.q
	b.disarm(m)
	switch {
	case b.expired(m):
		b.drop(m)
	case q.dlq != nil && m.receiveCount >= q.cfg.MaxReceiveCount:
		delete(q.handles, m.handle)
		b.setState(m, stateGone)
		q.stats.DeadLettered++
		b.log.Warn("moving message to dead-letter queue",
			"queue", q.cfg.URL, "dead_letter_queue", q.dlq.cfg.URL, "message_id", m.id, "receive_count", m.receiveCount)
		// The message keeps its id, body, attributes and sent time, so
		// retention counts from the original send, as SQS does for
		// standard queues; it starts over with no receives.
		moved := &message{
			q: q.dlq, id: m.id, body: m.body, md5Body: m.md5Body, md5Attrs: m.md5Attrs,
			attrs: m.attrs, trace: m.trace, sent: m.sent,
		}
		b.pushVisible(moved)
	default:
		b.pushVisible(m)
	}
}

func (b *Broker) expired(m *message) bool {
	return b.clock.Now().Sub(m.sent) >= m.q.cfg.MessageRetention
}

// drop removes an expired message.
func (b *Broker) drop(m *message) {
	b.disarm(m)
	delete(m.q.handles, m.handle)
	delete(m.q.delayed, m)
	b.setState(m, stateGone)
	m.q.stats.Expired++
}

// pushVisible appends m to its queue's visible messages and wakes waiting
// receivers.
func (b *Broker) pushVisible(m *message) {
	q := m.q
	b.setState(m, stateVisible)
	q.visible = append(q.visible, m)
	if q.waiting {
		close(q.notify)
		q.notify = make(chan struct{})
		q.waiting = false
	}
}

// waitChan returns a channel closed when messages next become visible.
func (q *queue) waitChan() <-chan struct{} {
	q.waiting = true
	return q.notify
}

// popVisible takes the next visible message off q, dropping tombstones
// and expired messages; nil when there is none.
func (b *Broker) popVisible(q *queue) *message {
	for q.head < len(q.visible) {
		m := q.visible[q.head]
		q.visible[q.head] = nil
		q.head++
		if q.head == len(q.visible) {
			q.visible, q.head = q.visible[:0], 0
		} else if q.head >= 1024 && q.head*2 >= len(q.visible) {
			n := copy(q.visible, q.visible[q.head:])
			clear(q.visible[n:])
			q.visible, q.head = q.visible[:n], 0
		}
		if m.state != stateVisible {
			continue
		}
		if b.expired(m) {
			b.drop(m)
			continue
		}
		return m
	}
	return nil
}

// unpopVisible puts m back at the front of the visible messages.
func (q *queue) unpopVisible(m *message) {
	if q.head > 0 {
		q.head--
		q.visible[q.head] = m
		return
	}
	q.visible = append(q.visible, nil)
	copy(q.visible[1:], q.visible)
	q.visible[0] = m
}

// receiveLocked receives up to max visible messages of q whose bodies
// together stay within budget bytes (0 means no limit; the first message
// is taken whatever its size): each gets a new receipt handle, a higher
// receive count and starts its visibility timeout. full reports that the
// budget stopped the receive.
func (b *Broker) receiveLocked(q *queue, max, budget int, visibility time.Duration) (recs []events.SQSMessage, full bool) {
	now := b.clock.Now()
	size := 0
	for len(recs) < max {
		m := b.popVisible(q)
		if m == nil {
			break
		}
		if budget > 0 && len(recs) > 0 && size+len(m.body) > budget {
			q.unpopVisible(m)
			return recs, true
		}
		size += len(m.body)
		m.receiveCount++
		if m.receiveCount == 1 {
			m.firstReceive = now
		}
		delete(q.handles, m.handle)
		m.handle = b.newID()
		q.handles[m.handle] = m
		b.setState(m, stateInFlight)
		b.arm(m, visibility, b.visibilityEnded)
		recs = append(recs, b.record(m))
	}
	return recs, false
}

// record is m as a receive returns it and Lambda passes it in an SQS
// event.
func (b *Broker) record(m *message) events.SQSMessage {
	attrs := make(map[string]string, 5)
	attrs["ApproximateReceiveCount"] = strconv.Itoa(m.receiveCount)
	attrs["SentTimestamp"] = strconv.FormatInt(m.sent.UnixMilli(), 10)
	attrs["SenderId"] = b.senderID
	attrs["ApproximateFirstReceiveTimestamp"] = strconv.FormatInt(m.firstReceive.UnixMilli(), 10)
	if m.trace != "" {
		attrs["AWSTraceHeader"] = m.trace
	}
	rec := events.SQSMessage{
		MessageId:              m.id,
		ReceiptHandle:          m.handle,
		Body:                   m.body,
		Md5OfBody:              m.md5Body,
		Md5OfMessageAttributes: m.md5Attrs,
		Attributes:             attrs,
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         m.q.arn,
		EventSource:            "aws:sqs",
		AWSRegion:              b.region,
	}
	for k, v := range m.attrs {
		a := events.SQSMessageAttribute{DataType: v.DataType}
		if v.BinaryValue != nil {
			a.BinaryValue = v.BinaryValue
		} else {
			a.StringValue = &v.StringValue
		}
		rec.MessageAttributes[k] = a
	}
	return rec
}

// ReceiveMessage receives up to max (1 to 10) messages from the queue at
// url, waiting up to wait (at most 20 s) for the first one, as SQS long
// polling does, with the queue's visibility timeout; see Receive.
func (b *Broker) ReceiveMessage(ctx context.Context, url string, max int, wait time.Duration) ([]events.SQSMessage, error) {
	return b.Receive(ctx, ReceiveParams{QueueURL: url, Max: max, Wait: wait})
}

// ReceiveParams says what Receive receives.
type ReceiveParams struct {
	QueueURL string
	// Max is the most messages to receive, 1 to MaxReceiveMessages.
	Max int
	// Wait is how long to wait for a first message, at most MaxWaitTime.
	Wait time.Duration
	// VisibilityTimeout, when set, replaces the queue's visibility
	// timeout for the messages of this receive; 0 to 12 h.
	VisibilityTimeout *time.Duration
}

// Receive receives up to p.Max messages from the queue at p.QueueURL,
// waiting up to p.Wait for the first one, as SQS long polling does; it
// returns no messages and no error when none came. Each message received
// gets a new receipt handle and a higher receive count and stays
// invisible for the visibility timeout. Errors are *Error
// (QueueDoesNotExist, InvalidParameterValue), ErrClosed, or the context's
// error.
func (b *Broker) Receive(ctx context.Context, p ReceiveParams) ([]events.SQSMessage, error) {
	url, max, wait := p.QueueURL, p.Max, p.Wait
	if max < 1 || max > MaxReceiveMessages {
		return nil, newError(CodeInvalidParameterValue, fmt.Sprintf("receiving from %s: max %d is not between 1 and %d", url, max, MaxReceiveMessages))
	}
	if wait < 0 || wait > MaxWaitTime {
		return nil, newError(CodeInvalidParameterValue, fmt.Sprintf("receiving from %s: wait %s is not between 0 and 20s", url, wait))
	}
	if v := p.VisibilityTimeout; v != nil && (*v < 0 || *v > MaxVisibilityTimeout) {
		return nil, newError(CodeInvalidParameterValue, fmt.Sprintf("receiving from %s: visibility timeout %s is not between 0 and 12h", url, *v))
	}
	var timedOut chan struct{}
	timedOutDone := false
	for {
		b.mu.Lock()
		q, err := b.queueLocked(url)
		if err != nil {
			b.mu.Unlock()
			return nil, err
		}
		visibility := q.cfg.VisibilityTimeout
		if p.VisibilityTimeout != nil {
			visibility = *p.VisibilityTimeout
		}
		recs, _ := b.receiveLocked(q, max, 0, visibility)
		if len(recs) > 0 || wait == 0 || timedOutDone {
			b.mu.Unlock()
			return recs, nil
		}
		ch := q.waitChan()
		b.mu.Unlock()
		if timedOut == nil {
			timedOut = make(chan struct{})
			stop := b.clock.AfterFunc(wait, func() { close(timedOut) })
			defer stop()
		}
		select {
		case <-ch:
		case <-timedOut:
			timedOutDone = true
		case <-ctx.Done():
			return nil, fmt.Errorf("receiving from %s: %w", url, ctx.Err())
		case <-b.done:
			return nil, ErrClosed
		}
	}
}

// DeleteMessage deletes the message whose latest receipt handle is
// receiptHandle. A handle that is unknown, or that an later receive of the
// same message replaced, is an *Error with code ReceiptHandleIsInvalid.
func (b *Broker) DeleteMessage(url, receiptHandle string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return err
	}
	m, ok := q.handles[receiptHandle]
	if !ok {
		return invalidHandle(url, receiptHandle)
	}
	b.delete(m)
	return nil
}

func invalidHandle(url, handle string) *Error {
	return newError(CodeReceiptHandleIsInvalid, fmt.Sprintf("receipt handle %q is not the latest of any message in queue %s", handle, url))
}

func (b *Broker) delete(m *message) {
	b.disarm(m)
	delete(m.q.handles, m.handle)
	b.setState(m, stateGone)
	m.q.stats.Deleted++
}

// ChangeMessageVisibility sets the visibility timeout of an in-flight
// message, counted from now: 0 makes it visible at once (or moves it to
// the dead-letter queue, as its timeout ending would). timeout is at most
// 12 h. Errors are *Error: ReceiptHandleIsInvalid as for DeleteMessage,
// MessageNotInflight for a message visible again, InvalidParameterValue;
// or ErrClosed.
func (b *Broker) ChangeMessageVisibility(url, receiptHandle string, timeout time.Duration) error {
	if timeout < 0 || timeout > MaxVisibilityTimeout {
		return newError(CodeInvalidParameterValue, fmt.Sprintf("changing visibility in %s: timeout %s is not between 0 and 12h", url, timeout))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return err
	}
	m, ok := q.handles[receiptHandle]
	if !ok {
		return invalidHandle(url, receiptHandle)
	}
	if m.state != stateInFlight {
		return newError(CodeMessageNotInflight, fmt.Sprintf("message %s in queue %s is not in flight", m.id, url))
	}
	if timeout == 0 {
		b.returnMessage(m)
		return nil
	}
	b.arm(m, timeout, b.visibilityEnded)
	return nil
}

// Stats returns the counts of the queue at url; visible messages whose
// retention is over are dropped first.
func (b *Broker) Stats(url string) (Stats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	q, err := b.queueLocked(url)
	if err != nil {
		return Stats{}, err
	}
	for _, m := range q.visible[q.head:] {
		if m.state == stateVisible && b.expired(m) {
			b.drop(m)
		}
	}
	s := q.stats
	s.Visible, s.InFlight, s.Delayed = q.nVisible, q.nInFlight, q.nDelayed
	return s, nil
}

// Close is Shutdown without a deadline: running handlers finish, each
// within its function timeout, as a Lambda function's invocations do when
// its event source mapping is disabled. Close always returns nil.
func (b *Broker) Close() error { return b.Shutdown(context.Background()) }

// Shutdown stops every event source mapping and the broker's timers (a
// timer firing later does nothing) and waits for running handlers to
// return. When ctx ends first, it cancels the handlers' context, waits for
// them to return and returns ctx's error. Later calls of the broker's
// methods fail with ErrClosed; a second Shutdown returns nil at once.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.done)
	ms := make([]*mapping, 0, len(b.mappings))
	for m := range b.mappings {
		ms = append(ms, m)
	}
	for _, q := range b.queues {
		for _, m := range q.handles {
			b.disarm(m)
		}
		for m := range q.delayed {
			b.disarm(m)
		}
	}
	b.mu.Unlock()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for _, m := range ms {
			m.stop()
		}
	}()
	defer b.stopHandlers()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		b.stopHandlers()
		<-stopped
		return ctx.Err()
	}
}
