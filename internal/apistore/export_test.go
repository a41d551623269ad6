package apistore

import "context"

// AddApprovalCalls makes calls of AddApprovals together, as concurrent
// calls are made, so that a test need not race them into one statement.
func (s *Store) AddApprovalCalls(ctx context.Context, calls [][]Approval) []error {
	return s.addApprovalCalls(ctx, calls)
}
