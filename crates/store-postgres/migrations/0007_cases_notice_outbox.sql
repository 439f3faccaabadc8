-- The outbox of e-mail notices. A notice is written in the transaction of the change that
-- calls for it and carries no health information: only a neutral subject, the recipient's
-- name, a due date and a link to the case. Rows are kept after sending (or giving up), so
-- what was sent, and what could not be, stays visible.
CREATE TABLE notice_outbox (
    id              uuid PRIMARY KEY,
    kind            text COLLATE "C" NOT NULL,
    recipient       uuid NOT NULL REFERENCES users (id),
    address         text COLLATE "C" NOT NULL,
    subject         text COLLATE "C" NOT NULL,
    body            text COLLATE "C" NOT NULL,
    case_id         uuid NOT NULL REFERENCES cases (id),
    task_id         uuid REFERENCES tasks (id),
    created_at      timestamptz NOT NULL,
    attempts        bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    sent_at         timestamptz,
    last_error      text COLLATE "C"
);
-- What the sender picks up: unsent notices by when they are due.
CREATE INDEX notice_outbox_due ON notice_outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- One reminder per overdue task and recipient.
CREATE UNIQUE INDEX notice_outbox_reminder ON notice_outbox (task_id, recipient)
    WHERE kind = 'overdue';
