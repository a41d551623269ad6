package httpapi

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/aiflow/aiflow/internal/apistore"
)

// pendingApproval is an approval of a batch of task messages, with the
// message it came in.
type pendingApproval struct {
	messageID string
	approval  apistore.Approval
}

// storeApprovals stores a batch's approvals in one commit, and returns
// the messages whose approval could not be stored. When the batch
// cannot be stored whole, each approval is stored alone, so that one
// that cannot be is the only one delivered again.
func (a *ApprovalWorker) storeApprovals(ctx context.Context, log *slog.Logger, batch []pendingApproval) []events.SQSBatchItemFailure {
	if len(batch) == 0 {
		return nil
	}
	as := make([]apistore.Approval, len(batch))
	for i, p := range batch {
		as[i] = p.approval
	}
	err := a.Store.AddApprovals(ctx, as)
	if err == nil {
		return nil
	}
	log.WarnContext(ctx, "storing a batch of approvals; storing each alone", "approvals", len(batch), "error", err)
	var failed []events.SQSBatchItemFailure
	for _, p := range batch {
		if err := a.Store.AddApproval(ctx, p.approval); err != nil {
			log.ErrorContext(ctx, "storing an approval", "message_id", p.messageID, "error", err)
			failed = append(failed, events.SQSBatchItemFailure{ItemIdentifier: p.messageID})
		}
	}
	return failed
}
