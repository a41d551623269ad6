package sqsapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/aiflow/aiflow/internal/engine/queue"
	"github.com/aiflow/aiflow/internal/sqsapi"
	"github.com/aiflow/aiflow/internal/sqsapi/sqsqueue"
)

// The engine's queue served as the SQS API, driven by the SDK's sqs
// client exactly as on AWS.
func Example() {
	ctx := context.Background()
	broker := queue.New(queue.Config{})
	defer broker.Close()
	srv := httptest.NewServer(sqsapi.NewHandler(sqsqueue.New(broker), sqsapi.Options{}))
	defer srv.Close()

	client := sqs.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	created, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ai-steps")})
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String(`{"step":"summarize"}`)}); err != nil {
		fmt.Println(err)
		return
	}
	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := out.Messages[0]
	fmt.Println(*created.QueueUrl)
	fmt.Println(*msg.Body)
	_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: created.QueueUrl, ReceiptHandle: msg.ReceiptHandle})
	fmt.Println("deleted:", err == nil)
	// Output:
	// http://sqs.us-east-1.localhost/123456789012/ai-steps
	// {"step":"summarize"}
	// deleted: true
}
