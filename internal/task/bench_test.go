package task_test

import (
	"testing"

	"github.com/aiflow/aiflow/internal/task"
)

// approvalBody is an approval step's message as the engine renders the
// compiler's template.
const approvalBody = `{"version":1,"taskToken":"AAAAKgAAAAIAAAAAAAAAAcaG2bXkF1u8S3+hQ0Bmv0BQxvXTYpz0yEKb1ZrmQ2M9MKpBJLZjAn4=","execution":{"id":"arn:aws:states:us-east-1:123456789012:execution:aiflow-reply:6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10","name":"6c1b3a1e-8f0a-4a53-9a3c-2f1f1e9d9b10","startTime":"2026-12-06T19:09:07.123Z"},"step":{"id":"approve","kind":"approval","attempt":0,"enteredTime":"2026-12-06T19:09:07.124Z"},"spec":{"approvers":["support-leads"]},"data":{"message":"Answer load?"}}`

// BenchmarkDecode is one approval step's message read, as the approvals
// worker reads each.
func BenchmarkDecode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := task.Decode(approvalBody); err != nil {
			b.Fatal(err)
		}
	}
}
