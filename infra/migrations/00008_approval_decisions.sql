-- An approval's decision is recorded before it is delivered: the approval
-- becomes 'deciding' with its decision fixed (decision, decided_by,
-- comment, decided_at), the step's task token is answered, and only then
-- does it become the decision ('approved' or 'rejected'), or 'expired'
-- when the step had stopped waiting. A failure between the steps leaves it
-- 'deciding': the same decision again delivers it again, another one is
-- refused, and internal/control's ResumeDecisions finishes what a crash
-- left (docs/api.md, Approvals).

-- +goose Up
ALTER TABLE api.approvals DROP CONSTRAINT approvals_status_check;
ALTER TABLE api.approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'deciding', 'approved', 'rejected', 'expired'));
ALTER TABLE api.approvals ADD COLUMN decision text CHECK (decision IN ('approved', 'rejected'));
UPDATE api.approvals SET decision = status WHERE status IN ('approved', 'rejected');
ALTER TABLE api.approvals ADD CONSTRAINT approvals_deciding_has_decision
    CHECK (status <> 'deciding' OR decision IS NOT NULL);

-- +goose Down
UPDATE api.approvals SET status = 'pending', decision = NULL, decided_by = NULL, comment = NULL, decided_at = NULL
    WHERE status = 'deciding';
ALTER TABLE api.approvals DROP CONSTRAINT approvals_deciding_has_decision;
ALTER TABLE api.approvals DROP COLUMN decision;
ALTER TABLE api.approvals DROP CONSTRAINT approvals_status_check;
ALTER TABLE api.approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'approved', 'rejected', 'expired'));
