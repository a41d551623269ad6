package queue_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sfn"
)

// A step worker subscribed to a queue gets what the engine sends, as a
// Lambda function behind an SQS event source does.
func ExampleBroker_Subscribe() {
	b := queue.New(queue.Config{})
	defer b.Close()
	dlq, _ := b.CreateQueue(queue.QueueConfig{Name: "ai-steps-dlq"})
	url, _ := b.CreateQueue(queue.QueueConfig{Name: "ai-steps", MaxReceiveCount: 5, DeadLetterURL: dlq})

	done := make(chan struct{})
	stop, err := b.Subscribe(url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		for _, m := range ev.Records {
			fmt.Println(m.EventSourceARN, m.Body, m.MessageAttributes["stepKind"].DataType, *m.MessageAttributes["stepKind"].StringValue)
		}
		close(done)
		return events.SQSEventResponse{}, nil
	}, queue.MappingConfig{ReportBatchItemFailures: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	_, err = b.SendMessage(context.Background(), sfn.SendMessageParams{
		QueueURL:   url,
		Body:       `{"taskToken":"t1","input":{"ticket":"T-1"}}`,
		Attributes: map[string]string{"stepKind": "ai"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	<-done

	_, err = b.SendMessage(context.Background(), sfn.SendMessageParams{QueueURL: "http://sqs.us-east-1.localhost/123456789012/missing", Body: "{}"})
	var qe *queue.Error
	if errors.As(err, &qe) {
		fmt.Println(qe.ErrorName())
	}
	// Output:
	// arn:aws:sqs:us-east-1:123456789012:ai-steps {"taskToken":"t1","input":{"ticket":"T-1"}} String ai
	// SQS.QueueDoesNotExistException
}
