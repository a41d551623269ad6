// Package sqsqueue serves the engine's queue broker as the SQS wire API's
// Broker: it is wiring between internal/sqsapi, which may not import the
// engine, and internal/engine/queue, which may import nothing of the rest
// of aiflow. It copies fields between the two packages' types and turns
// the queue's *queue.Error into *sqsapi.Error with the same SQS code.
package sqsqueue

import (
	"context"
	"errors"
	"time"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sqsapi"
)

// Broker adapts a *queue.Broker to sqsapi.Broker. The queue's operations
// that take no context do not block, so they ignore it.
type Broker struct {
	b *queue.Broker
}

var _ sqsapi.Broker = (*Broker)(nil)

// New returns the adapter of b.
func New(b *queue.Broker) *Broker { return &Broker{b: b} }

// translate turns the queue's errors into the API's.
func translate(err error) error {
	var qe *queue.Error
	if errors.As(err, &qe) {
		return &sqsapi.Error{Code: qe.Code, Message: qe.Message}
	}
	return err
}

// CreateQueue implements sqsapi.Queues.
func (a *Broker) CreateQueue(_ context.Context, c sqsapi.QueueConfig) (string, error) {
	url, err := a.b.CreateQueue(queue.QueueConfig{
		Name:                   c.Name,
		URL:                    c.URL,
		VisibilityTimeout:      c.VisibilityTimeout,
		DelaySeconds:           c.DelaySeconds,
		MessageRetention:       c.MessageRetention,
		MaximumMessageSize:     c.MaximumMessageSize,
		ReceiveMessageWaitTime: c.ReceiveMessageWaitTime,
		MaxReceiveCount:        c.MaxReceiveCount,
		DeadLetterURL:          c.DeadLetterURL,
	})
	return url, translate(err)
}

// QueueURL implements sqsapi.Queues.
func (a *Broker) QueueURL(_ context.Context, name string) (string, error) {
	url, err := a.b.QueueURL(name)
	return url, translate(err)
}

// ListQueues implements sqsapi.Queues.
func (a *Broker) ListQueues(_ context.Context, prefix string) ([]string, error) {
	urls, err := a.b.ListQueues(prefix)
	return urls, translate(err)
}

// DescribeQueue implements sqsapi.Queues.
func (a *Broker) DescribeQueue(_ context.Context, url string) (sqsapi.QueueInfo, error) {
	info, err := a.b.Describe(url)
	if err != nil {
		return sqsapi.QueueInfo{}, translate(err)
	}
	c := info.Config
	return sqsapi.QueueInfo{
		Config: sqsapi.QueueConfig{
			Name:                   c.Name,
			URL:                    c.URL,
			VisibilityTimeout:      c.VisibilityTimeout,
			DelaySeconds:           c.DelaySeconds,
			MessageRetention:       c.MessageRetention,
			MaximumMessageSize:     c.MaximumMessageSize,
			ReceiveMessageWaitTime: c.ReceiveMessageWaitTime,
			MaxReceiveCount:        c.MaxReceiveCount,
			DeadLetterURL:          c.DeadLetterURL,
		},
		ARN:      info.ARN,
		Visible:  info.Stats.Visible,
		InFlight: info.Stats.InFlight,
		Delayed:  info.Stats.Delayed,
	}, nil
}

// PurgeQueue implements sqsapi.Queues.
func (a *Broker) PurgeQueue(_ context.Context, url string) error {
	return translate(a.b.PurgeQueue(url))
}

// DeleteQueue implements sqsapi.Queues.
func (a *Broker) DeleteQueue(_ context.Context, url string) error {
	return translate(a.b.DeleteQueue(url))
}

// Send implements sqsapi.Messages.
func (a *Broker) Send(ctx context.Context, p sqsapi.SendParams) (sqsapi.SendResult, error) {
	qp := queue.SendParams{QueueURL: p.QueueURL, Body: p.Body, TraceHeader: p.TraceHeader, DelaySeconds: p.DelaySeconds}
	if len(p.Attributes) > 0 {
		qp.Attributes = make(map[string]queue.Attribute, len(p.Attributes))
		for k, v := range p.Attributes {
			qp.Attributes[k] = queue.Attribute{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
		}
	}
	res, err := a.b.Send(ctx, qp)
	if err != nil {
		return sqsapi.SendResult{}, translate(err)
	}
	return sqsapi.SendResult{MessageID: res.MessageID, MD5OfBody: res.MD5OfBody, MD5OfAttributes: res.MD5OfAttributes}, nil
}

// Receive implements sqsapi.Messages.
func (a *Broker) Receive(ctx context.Context, p sqsapi.ReceiveParams) ([]sqsapi.Message, error) {
	recs, err := a.b.Receive(ctx, queue.ReceiveParams{QueueURL: p.QueueURL, Max: p.Max, Wait: p.Wait, VisibilityTimeout: p.VisibilityTimeout})
	if err != nil {
		return nil, translate(err)
	}
	out := make([]sqsapi.Message, len(recs))
	for i, r := range recs {
		m := sqsapi.Message{
			ID: r.MessageId, ReceiptHandle: r.ReceiptHandle, Body: r.Body,
			MD5OfBody: r.Md5OfBody, MD5OfAttributes: r.Md5OfMessageAttributes,
			SystemAttributes: r.Attributes,
		}
		if len(r.MessageAttributes) > 0 {
			m.Attributes = make(map[string]sqsapi.Attribute, len(r.MessageAttributes))
			for k, v := range r.MessageAttributes {
				at := sqsapi.Attribute{DataType: v.DataType, BinaryValue: v.BinaryValue}
				if v.StringValue != nil {
					at.StringValue = *v.StringValue
				}
				m.Attributes[k] = at
			}
		}
		out[i] = m
	}
	return out, nil
}

// DeleteMessage implements sqsapi.Messages.
func (a *Broker) DeleteMessage(_ context.Context, url, receiptHandle string) error {
	return translate(a.b.DeleteMessage(url, receiptHandle))
}

// ChangeVisibility implements sqsapi.Messages.
func (a *Broker) ChangeVisibility(_ context.Context, url, receiptHandle string, timeout time.Duration) error {
	return translate(a.b.ChangeMessageVisibility(url, receiptHandle, timeout))
}
